; intloop.asm: the benchmark's integer loop. N comes from the multiboot
; command line (the first word made only of decimal digits; Multiboot 0.6.96
; §3.3: info.flags bit 2, cmdline at offset 16); default 10000000.
; The loop body is exactly LOOP_INSNS = 11 instructions per iteration: keep it
; fixed, the benchmark divides the instruction count by it (README.md).
; Prints "iterations", "checksum" and "instructions"; verdict 0, or 1 if N is
; the default and the checksum differs from the one computed in C
; (intloop-ref.c).

%include "common.inc"

DEFAULT_N       equ 10000000
LOOP_INSNS      equ 11
DEFAULT_SUM     equ 0xfaf9e268      ; intloop-ref.c 10000000

main:
        call read_n
        mov esi, eax
        PRINT "iterations: "
        call putdec
        call newline
        mov eax, 0x12345678         ; a
        mov ebx, 0x9ABCDEF0         ; b
        mov dword [var], 1
        xor edi, edi                ; i
        test esi, esi
        jz .done
        align 16
.loop:  ; ---- the measured body: 11 instructions ----
        mov edx, [var]              ; 1  load
        add eax, edx                ; 2
        lea ebx, [ebx + eax*2 + 7]  ; 3
        xor eax, ebx                ; 4
        shr edx, 1                  ; 5
        sub ebx, edx                ; 6
        and eax, 0x7FFFFFFF         ; 7
        mov [var], ebx              ; 8  store
        inc edi                     ; 9
        cmp edi, esi                ; 10
        jnz .loop                   ; 11
        ; ---- end of body ----
.done:  xor eax, ebx
        mov ebp, eax
        PRINT "checksum: "
        call puthex32
        call newline
        PRINT "instructions: "
        mov eax, esi
        mov ecx, LOOP_INSNS
        mul ecx                     ; EDX:EAX = N * 11
        call putdec64
        call newline
        cmp esi, DEFAULT_N
        jne .pass
        CHECK_EQ ebp, DEFAULT_SUM, 1, "checksum for the default N"
.pass:  xor eax, eax
        ret

; read_n: EAX = N from the command line, or DEFAULT_N.
read_n:
        mov ebx, [mb_info]
        test dword [ebx], 1 << 2
        jz .default
        mov esi, [ebx + 16]
.word:  ; skip blanks
        mov al, [esi]
        test al, al
        jz .default
        cmp al, ' '
        ja .start
        inc esi
        jmp .word
.start: xor edx, edx                ; value
        mov edi, esi
.digit: mov al, [edi]
        cmp al, ' '
        jbe .end
        sub al, '0'
        cmp al, 9
        ja .skip                    ; not all digits: skip this word
        imul edx, edx, 10
        movzx eax, al
        add edx, eax
        inc edi
        jmp .digit
.end:   cmp edi, esi
        je .default
        mov eax, edx
        ret
.skip:  inc edi
        mov al, [edi]
        cmp al, ' '
        ja .skip
        mov esi, edi
        jmp .word
.default:
        mov eax, DEFAULT_N
        ret

; putdec64: EDX:EAX as unsigned decimal. Preserves registers.
putdec64:
        pushad
        mov ecx, 10
        xor ebx, ebx
.div:   mov esi, eax                ; long division of EDX:EAX by 10
        mov eax, edx
        xor edx, edx
        div ecx                     ; high / 10
        mov edi, eax                ; high quotient
        mov eax, esi
        div ecx                     ; (rem:low) / 10
        push edx
        inc ebx
        mov edx, edi
        mov esi, eax
        or esi, edx
        jnz .div
.emit:  pop eax
        add al, '0'
        call putc
        dec ebx
        jnz .emit
        popad
        ret

        section .bss
var:    resd 1
        section .text

%include "end.inc"
