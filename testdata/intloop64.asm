; intloop64.asm: the benchmark's integer loop in 64-bit mode (the 64-bit
; counterpart of intloop.asm). Enters IA-32e mode through long.inc's
; long_enter, then runs the same kind of loop on 64-bit registers, R8-R13
; among them, with a RIP-relative qword load and store.
; N comes from the multiboot command line like intloop's (the first word made
; only of decimal digits; Multiboot 0.6.96 §3.3: info.flags bit 2, cmdline at
; offset 16), read in 32-bit code before long mode; default 10000000; taken
; mod 2^32 and zero-extended.
; The loop body is exactly LOOP_INSNS = 11 instructions per iteration: keep it
; fixed, the benchmark divides the instruction count by it (README.md).
; Prints "iterations", "checksum" (16 hex digits) and "instructions";
; verdict 0, or 1 if N is the default and the checksum differs from the one
; computed in C (the C loop is in README.md).

%include "long.inc"

DEFAULT_N       equ 10000000
LOOP_INSNS      equ 11
DEFAULT_SUM     equ 0xc8920329722ad2e6  ; the C loop of README.md, N = 10000000

        bits 32
main:
        call read_n
        mov [n_iter], eax
        jmp long_enter              ; never returns: main64 exits itself

        bits 64
main64:
        mov r10d, [n_iter]          ; N, zero-extended
        LPRINT "iterations: "
        mov rax, r10
        call lputdec
        call lnewline
        mov rax, 0x123456789ABCDEF0 ; a
        mov r13, 0x0FEDCBA987654321 ; b
        mov r8, 0x7FFFFFFFFFFFFFFF  ; mask
        mov qword [rel var], 1
        xor r9d, r9d                ; i
        test r10, r10
        jz .done
        align 16
.loop:  ; ---- the measured body: 11 instructions ----
        mov r11, [rel var]          ; 1  load (RIP-relative)
        add rax, r11                ; 2
        lea r13, [r13 + rax*2 + 7]  ; 3
        xor rax, r13                ; 4
        shr r11, 1                  ; 5
        sub r13, r11                ; 6
        and rax, r8                 ; 7
        mov [rel var], r13          ; 8  store (RIP-relative)
        inc r9                      ; 9
        cmp r9, r10                 ; 10
        jnz .loop                   ; 11
        ; ---- end of body ----
.done:  xor rax, r13
        mov rbp, rax
        LPRINT "checksum: "
        call lputhex64
        call lnewline
        LPRINT "instructions: "
        mov rax, r10
        imul rax, rax, LOOP_INSNS
        call lputdec
        call lnewline
        cmp r10, DEFAULT_N
        jne .pass
        LCHECK rbp, DEFAULT_SUM, 1, "checksum for the default N"
.pass:  xor eax, eax
        jmp lexit_verdict

        bits 32
; read_n: EAX = N from the command line, or DEFAULT_N (intloop.asm's).
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

        section .bss
        alignb 8
var:    resq 1
n_iter: resd 1
        section .text

%include "end.inc"
