; smc.asm: self-modifying and cross-modifying code. x86 keeps instruction
; fetch coherent with stores to code (SDM Vol. 3A §8.1.3 "Handling
; Self- and Cross-Modifying Code", §11.6 "Self-modifying code"): a
; translator that caches decoded blocks must notice stores into them.
; Verdict: 0 = pass, else the failing part (1-6).

%include "common.inc"
%include "paging.inc"

ROUNDS  equ 1000
VA_ALIAS equ 0x40000000             ; PDE 0x100 -> pt_alias -> xpage

main:
; 1. A loop whose body patches the imm32 of instructions ahead of it in the
; same block; every iteration must execute the value just stored.
        xor ecx, ecx
        xor edx, edx
.p1:    mov [.imm1 + 1], ecx        ; B8 id: imm32 at +1
        lea ebx, [ecx*2 + 1]
        mov [.imm2 + 2], ebx        ; 81 C2 id: imm32 at +2
.imm1:  mov eax, 0xDEADBEEF
.imm2:  add edx, 0x12345678
        cmp eax, ecx
        jne .f1
        inc ecx
        cmp ecx, ROUNDS
        jb .p1
        ; sum of 2i+1 for i < ROUNDS = ROUNDS^2
        CHECK_EQ edx, ROUNDS*ROUNDS, 1, "patched add immediates: sum"
        OK "patching immediates ahead in the same block"
        jmp .part2
.f1:    mov edx, ecx
        mov esi, str_p1
        mov cl, 1
        jmp check_failed

; 2. Code copied to a buffer and run, then overwritten with other code of
; another length and run again, alternately, ROUNDS times.
.part2:
        xor ecx, ecx
.p2:    mov edi, xbuf
        test cl, 1
        jnz .lea
        mov byte [edi], 0xB8        ; mov eax, imm32
        lea eax, [ecx*4 + 7]
        mov [edi + 1], eax
        mov byte [edi + 5], 0xC3    ; ret
        mov ebx, 0x55555555         ; ignored by this form
        call xbuf
        lea edx, [ecx*4 + 7]
        jmp .cmp2
.lea:   mov word [edi], 0x838D      ; lea eax, [ebx + disp32]
        lea eax, [ecx*8 + 3]
        mov [edi + 2], eax
        mov byte [edi + 6], 0xC3    ; ret
        mov ebx, 0x1000
        call xbuf
        lea edx, [ecx*8 + 3 + 0x1000]
.cmp2:  cmp eax, edx
        jne .f2
        inc ecx
        cmp ecx, ROUNDS
        jb .p2
        OK "code buffer rewritten and rerun"
        jmp .part3
.f2:    mov esi, str_p2
        mov cl, 2
        jmp check_failed

; 3. A store to the very next instruction with a JMP in between: the jump
; makes every x86 since the 486 fetch the new bytes (§8.1.3).
.part3:
        xor ecx, ecx
.p3:    mov [.n3 + 1], cl           ; B0 ib: mov al, imm8
        jmp .n3
.n3:    mov al, 0xEE
        cmp al, cl
        jne .f3
        inc ecx
        cmp ecx, 256
        jb .p3
        OK "store to the next instruction, then jmp"
        jmp .part4
.f3:    movzx eax, al
        mov edx, ecx
        mov esi, str_p3
        mov cl, 3
        jmp check_failed

; 4. The same without the jump: P6 and later detect a store to an
; instruction already prefetched and refetch it (§8.1.3), and QEMU does the
; same, so the new immediate must be seen.
.part4:
        xor ecx, ecx
.p4:    mov [.n4 + 1], cl
.n4:    mov al, 0xEE
        cmp al, cl
        jne .f4
        inc ecx
        cmp ecx, 256
        jb .p4
        OK "store to the next instruction, no jmp"
        jmp .part5
.f4:    movzx eax, al
        mov edx, ecx
        mov esi, str_p4
        mov cl, 4
        jmp check_failed

; 5. Changing the next instruction's opcode: INC EAX (40) <-> DEC EAX (48).
.part5:
        xor ecx, ecx
        xor edx, edx                ; expected EAX
        xor eax, eax
.p5:    mov bl, 0x40
        test cl, 1
        jz .inc5
        mov bl, 0x48
        dec edx
        jmp .st5
.inc5:  inc edx
.st5:   mov [.op5], bl
.op5:   inc eax
        cmp eax, edx
        jne .f5
        inc ecx
        cmp ecx, ROUNDS
        jb .p5
        OK "store rewrites the next instruction's opcode"
        jmp .part6
.f5:    mov esi, str_p5
        mov cl, 5
        jmp check_failed

; 6. Cross-modification through a paging alias (§4.3): xpage is mapped at
; its identity address and at VA_ALIAS; code written through one linear
; address runs at the other, so the cache must follow physical memory.
.part6:
        call paging_setup
        mov dword [page_dir + (VA_ALIAS >> 22) * 4], pt_alias + (PG_P | PG_RW)
        mov dword [pt_alias], xpage + (PG_P | PG_RW)
        call paging_enable
        xor ecx, ecx
.p6:    mov byte [xpage], 0xB8      ; write through the identity address
        lea eax, [ecx + 0x100]
        mov [xpage + 1], eax
        mov byte [xpage + 5], 0xC3
        call VA_ALIAS               ; run through the alias
        lea edx, [ecx + 0x100]
        cmp eax, edx
        jne .f6
        mov byte [VA_ALIAS], 0xB8   ; write through the alias
        lea eax, [ecx + 0x200]
        mov [VA_ALIAS + 1], eax
        call xpage                  ; run through the identity address
        lea edx, [ecx + 0x200]
        cmp eax, edx
        jne .f6
        inc ecx
        cmp ecx, 100
        jb .p6
        mov eax, cr0
        and eax, ~CR0_PG
        mov cr0, eax
        jmp .off
.off:   OK "code modified through a paging alias"
        xor eax, eax
        ret
.f6:    mov esi, str_p6
        mov cl, 6
        jmp check_failed

        section .data
str_p1: db "patched mov imm32 ahead (got eax, want round)", 0
str_p2: db "rewritten code buffer result", 0
str_p3: db "next instruction patched, jmp between", 0
str_p4: db "next instruction patched, no jmp", 0
str_p5: db "next opcode patched inc/dec", 0
str_p6: db "code rewritten through a paging alias", 0
        section .bss
        alignb 4096
pt_alias:       resb 4096
xpage:          resb 4096
xbuf:           resb 64
        section .text

%include "end.inc"
