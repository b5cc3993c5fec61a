; long64.asm: 64-bit mode, the instruction side. The guest enters IA-32e mode
; itself (long.inc, SDM Vol. 3A §10.8.5) and checks, in 64-bit mode:
;   1. the entry: EFER.LME/LMA before and after CR0.PG, CS, 0x40 is a REX prefix
;   2. REX: R8-R15, SPL/BPL/SIL/DIL vs AH/CH/DH/BH, R8B-R15B, REX.W beats 66h,
;      REX.X index R12, ModRM/SIB special cases that ignore REX.B
;   3. 64-bit ADD ADC SUB SBB CMP INC DEC NEG with flags, IMUL MUL DIV IDIV
;      (and #DE), shifts and rotates with counts up to 63 and the 6-bit mask,
;      SHLD SHRD BSF BSR BT
;   4. 32-bit results zero-extend into bits 63:32, 16/8-bit ones preserve them
;      (also CMOVcc with a false condition, XCHG EAX,EAX vs NOP, 67h LEA)
;   5. MOVSXD, MOVSX/MOVZX to 64 bits
;   6. MOV r64, imm64; MOV with a 64-bit moffs; MOV r/m64, imm32 sign-extends
;   7. RIP-relative load, store, LEA, indirect CALL/JMP, and stores whose
;      immediate follows the displacement (RIP = the end of the instruction)
;   8. PUSH/POP: 8-byte default, imm8/imm32 sign-extension, 66h PUSH, PUSH RSP, POP RSP
;   9. near CALL/RET (8-byte return address), RET imm16, CALL r64 / m64
;  10. CMPXCHG16B (if CPUID.1:ECX.CX16), misaligned -> #GP(0); CMPXCHG8B
;  11. BSWAP r64 / r32
;  12. REP MOVSQ / STOSQ, LODSQ, REPNE SCASQ, REPE CMPSQ, DF=1
;  13. canonical addresses: non-canonical load/store -> #GP(0); through RBP
;      and RSP (SS) -> #SS(0) (QEMU 7.2 gives #GP(0) there: accepted with a
;      note unless built with -DSTRICT_SDM)
;  14. compatibility mode: far JMP m16:32 to a 32-bit segment (L=0, D=1),
;      0x40 = INC EAX there, 4-byte pushes, EFER.LMA still 1, far JMP ptr16:32
;      back; far CALL m16:32 and a 32-bit RETF back; a 16-byte 64-bit call
;      gate called from compatibility mode, RETFQ back
;  15. FS/GS base MSRs (C0000100h-C0000102h), fs:/gs: accesses (also with a
;      RIP-relative operand and a base above 4 GiB), MOV FS reloads the base,
;      SWAPGS; RD/WR FS/GS BASE when CPUID.7.EBX.FSGSBASE (skipped otherwise)
;  16. RDTSCP and IA32_TSC_AUX when CPUID.80000001h:EDX.RDTSCP (skipped otherwise)
; CPU: long mode; -cpu qemu64 runs all but RDTSCP and FSGSBASE, -cpu max all.
; Verdict: 0 = all passed, else the number of the failing group above.
; Instruction names refer to their SDM Vol. 2A/2B pages; Vol. 3A section
; numbers follow the 2023+ editions (see long.inc).
; Left out on purpose, because QEMU 7.2 (the oracle) departs from the SDM
; there: a REX prefix followed by 66h (the SDM ignores a REX that does not
; immediately precede the opcode; QEMU still applies it), and WRMSR of a
; non-canonical FS/GS base (#GP(0) by the SDM; QEMU takes it).

%macro LONG_GDT_EXTRA 0
gdt_gate64:
        dq 0, 0                 ; 0x50 64-bit call gate (16 bytes), built by test_compat
%endmacro
SEL_GATE64      equ 0x50

%include "long.inc"

        bits 32
main:   jmp long_enter

        bits 64
main64:
        call lexpect_install
        LSET_IST 8, 2           ; #DF on its own stack: a broken RSP reports instead of resetting
        call test_entry
        call test_rex
        call test_arith
        call test_zext
        call test_movsx
        call test_imm64
        call test_riprel
        call test_push
        call test_call
        call test_cmpxchg
        call test_bswap
        call test_string
        call test_canonical
        call test_compat
        call test_fsgs
        call test_rdtscp
        LOK "long64: all groups"
        xor eax, eax
        jmp lexit_verdict

; ------------------------------------------------------------------ 1. entry
test_entry:
        mov rax, [efer_before_pg]
        and rax, EFER_LME | EFER_LMA
        LCHECK rax, EFER_LME, 1, "EFER after WRMSR, before CR0.PG: LME=1 LMA=0"
        mov rax, [efer_after_pg]
        and rax, EFER_LME | EFER_LMA
        LCHECK rax, EFER_LME | EFER_LMA, 1, "EFER after CR0.PG: LMA=1 (SDM Vol. 3A §10.8.5)"
        mov ecx, MSR_EFER
        rdmsr
        and eax, EFER_LMA
        LCHECK rax, EFER_LMA, 1, "EFER.LMA in 64-bit mode"
        mov rax, cs
        LCHECK rax, SEL_CODE64, 1, "CS in 64-bit mode"
        mov rax, cr4
        and eax, CR4_PAE
        LCHECK rax, CR4_PAE, 1, "CR4.PAE"
        ; In 64-bit mode 40h-4Fh are REX prefixes (Vol. 2A §2.2.1), not INC/DEC.
        xor eax, eax
        db 0x40, 0x90               ; REX + NOP
        LCHECK rax, 0, 1, "40h is a REX prefix, not INC EAX"
        mov rax, 1
        shl rax, 40
        LCHECK rax, 0x10000000000, 1, "64-bit register width"
        LOK "1 long-mode entry (EFER.LME/LMA, CS.L=1, REX 40h)"
        ret

; -------------------------------------------------------------------- 2. REX
test_rex:
        ; R8-R15 are separate registers (Vol. 1 §3.4.1.1, Vol. 2A §2.2.1.2).
        mov r8, 0x0808080808080808
        mov r9, 0x0909090909090909
        mov r10, 0x1010101010101010
        mov r11, 0x1111111111111111
        mov r12, 0x1212121212121212
        mov r13, 0x1313131313131313
        mov r14, 0x1414141414141414
        mov r15, 0x1515151515151515
        mov rax, 0x0A0A0A0A0A0A0A0A
        mov rbx, 0x0B0B0B0B0B0B0B0B
        LCHECK r8, 0x0808080808080808, 2, "R8"
        LCHECK r9, 0x0909090909090909, 2, "R9"
        LCHECK r10, 0x1010101010101010, 2, "R10"
        LCHECK r11, 0x1111111111111111, 2, "R11"
        LCHECK r12, 0x1212121212121212, 2, "R12"
        LCHECK r13, 0x1313131313131313, 2, "R13"
        LCHECK r14, 0x1414141414141414, 2, "R14"
        LCHECK r15, 0x1515151515151515, 2, "R15"
        LCHECK rax, 0x0A0A0A0A0A0A0A0A, 2, "RAX beside R8-R15"
        LCHECK rbx, 0x0B0B0B0B0B0B0B0B, 2, "RBX beside R8-R15"
        mov r8, r15                 ; REX.R and REX.B
        add r8, r9
        LCHECK r8, 0x1E1E1E1E1E1E1E1E, 2, "add r8, r9"

        ; Byte registers 4-7: AH CH DH BH without a REX prefix, SPL BPL SIL
        ; DIL with any REX (Vol. 2A §2.2.1.2, table 3-1 "Register Codes").
        mov rsi, 0x1111111111111111
        mov rdx, 0x2222222222222222
        db 0x40, 0xB6, 0xAB         ; mov sil, 0xAB (REX 40h, B0+6)
        db 0xB6, 0xCD               ; mov dh, 0xCD  (no REX, B0+6)
        LCHECK rsi, 0x11111111111111AB, 2, "40 B6 ib = MOV SIL"
        LCHECK rdx, 0x222222222222CD22, 2, "B6 ib = MOV DH"
        mov rdi, 0x3333333333333333
        mov rbx, 0x4444444444444444
        db 0x40, 0xB7, 0x5A         ; mov dil, 0x5A
        db 0xB7, 0xA5               ; mov bh, 0xA5
        LCHECK rdi, 0x333333333333335A, 2, "40 B7 ib = MOV DIL"
        LCHECK rbx, 0x444444444444A544, 2, "B7 ib = MOV BH"
        mov rbp, 0x5555555555555555
        mov rcx, 0x6666666666666666
        db 0x40, 0xB5, 0x77         ; mov bpl, 0x77
        db 0xB5, 0x88               ; mov ch, 0x88
        LCHECK rbp, 0x5555555555555577, 2, "40 B5 ib = MOV BPL"
        LCHECK rcx, 0x6666666666668866, 2, "B5 ib = MOV CH"
        ; SPL: read it only. 88 /r, ModRM 11 100 001: reg 4 = SPL with a REX, AH without.
        mov rax, 0x7777777777779977 ; AH = 99h
        mov rcx, -1
        db 0x40, 0x88, 0xE1         ; mov cl, spl
        movzx ecx, cl
        mov rdx, rsp
        movzx edx, dl
        LCHECK rcx, rdx, 2, "40 88 E1 = MOV CL, SPL"
        db 0x88, 0xE1               ; mov cl, ah
        movzx ecx, cl
        LCHECK rcx, 0x99, 2, "88 E1 = MOV CL, AH"
        ; With REX.B the r/m names R8B, and reg 4 is SPL: AH cannot be paired with R8B.
        mov r8, -1
        db 0x41, 0x88, 0xE0         ; mov r8b, spl
        mov rdx, rsp
        movzx edx, dl
        or rdx, ~0xFF
        LCHECK r8, rdx, 2, "41 88 E0 = MOV R8B, SPL"
        ; R8B-R15B and R8W: the rest of the register is kept.
        mov r9, 0x0123456789ABCDEF
        mov r9b, 0x11
        LCHECK r9, 0x0123456789ABCD11, 2, "MOV R9B keeps bits 63:8"
        mov r15, -1
        mov r14, 0x80
        add r15b, r14b              ; FFh + 80h = 7Fh, carry out of bit 7 only
        LCHECK r15, 0xFFFFFFFFFFFFFF7F, 2, "ADD R15B, R14B keeps bits 63:8"
        mov r12, 0x1111111111111111
        mov r12w, 0xBEEF
        LCHECK r12, 0x111111111111BEEF, 2, "MOV R12W keeps bits 63:16"
        mov r10, 0x00000000000000FF
        inc r10b
        LCHECK r10, 0, 2, "INC R10B wraps in 8 bits"
        ; REX.W and 66h: REX.W decides the operand size (Vol. 2A §2.2.1.2).
        mov rax, 1
        db 0x66, 0x48, 0x05         ; add rax, imm32 (not add ax, imm16)
        dd -1
        LCHECK rax, 0, 2, "66 REX.W 05 id = ADD RAX, imm32"
        mov rax, 0x111100000000FFFF
        add ax, 1                   ; 66 05 iw
        LCHECK rax, 0x1111000000000000, 2, "66 05 iw = ADD AX (no carry into bit 16)"
        ; REX.X: SIB index 100b with REX.X=1 is R12, not "no index".
        mov rsi, rex_arr
        mov r12, 2
        mov rax, [rsi + r12*8]
        LCHECK rax, 0x2222222222222222, 2, "[RSI + R12*8] (SIB index R12)"
        ; REX.B: base R12 needs a SIB byte, base R13 a displacement.
        mov r12, rex_arr + 8
        mov rax, [r12]
        LCHECK rax, 0x1111111111111111, 2, "[R12]"
        mov r13, rex_arr + 24
        mov rax, [r13]
        LCHECK rax, 0x3333333333333333, 2, "[R13]"
        ; ModRM mod=00 r/m=101 is RIP-relative whatever REX.B says, and SIB
        ; base=101 with mod=00 is "no base, disp32" for RBP and R13 alike
        ; (Vol. 2A §2.2.1.2, table 2-5 "Special Cases of REX Encodings").
        mov r13, 0x40000
        xor eax, eax
        db 0x41                     ; REX.B: 41 8B 05 disp32 = MOV EAX, [RIP+disp32]
        mov eax, [rel rex_dword]
        LCHECK rax, 0xC0FFEE11, 2, "41 8B 05: RIP-relative despite REX.B"
        xor eax, eax
        db 0x41                     ; REX.B: 41 8B 04 25 disp32 = MOV EAX, [disp32]
        mov eax, [abs rex_dword]
        LCHECK rax, 0xC0FFEE11, 2, "41 8B 04 25: SIB no base despite REX.B"
        LOK "2 REX prefixes, R8-R15, SPL/BPL/SIL/DIL vs AH-BH, special encodings"
        ret

; -------------------------------------------------------------- 3. arithmetic
; Flags: the "Flags Affected" sections of Vol. 2A/2B; undefined ones masked.
test_arith:
        mov rax, 0x7FFFFFFFFFFFFFFF
        add rax, 1
        LCHECKF RFL_ARITH, RFL_OF | RFL_SF | RFL_AF | RFL_PF, 3, "ADD r64 signed overflow: flags"
        LCHECK rax, 0x8000000000000000, 3, "ADD r64 signed overflow"
        mov rax, -1
        add rax, 1
        LCHECKF RFL_ARITH, RFL_CF | RFL_ZF | RFL_AF | RFL_PF, 3, "ADD r64 carry out of bit 63: flags"
        LCHECK rax, 0, 3, "ADD r64 carry out of bit 63"
        mov rax, 0
        add rax, -0x80000000        ; imm32 sign-extended to 64 bits
        LCHECK rax, 0xFFFFFFFF80000000, 3, "ADD r64, imm32 sign-extends"
        ; ADC: a 128-bit add, 1:FFFF..FF + 0:1 = 2:0
        mov rax, -1
        mov rdx, 1
        add rax, 1
        adc rdx, 0
        LCHECKF RFL_ARITH, 0, 3, "ADC r64 (128-bit add): flags"
        LCHECK rdx, 2, 3, "ADC r64 (128-bit add): high"
        LCHECK rax, 0, 3, "ADC r64 (128-bit add): low"
        stc
        mov rax, 5
        adc rax, -1                 ; 5 + FFFF..FF + 1
        LCHECKF RFL_ARITH, RFL_CF | RFL_AF | RFL_PF, 3, "ADC r64, -1 with CF=1: flags"
        LCHECK rax, 5, 3, "ADC r64, -1 with CF=1"
        ; SUB / SBB
        mov rax, 0
        sub rax, 1
        LCHECKF RFL_ARITH, RFL_CF | RFL_SF | RFL_AF | RFL_PF, 3, "SUB r64 borrow: flags"
        LCHECK rax, -1, 3, "SUB r64 borrow"
        mov rax, 0x8000000000000000
        mov rcx, 1
        sub rax, rcx
        LCHECKF RFL_ARITH, RFL_OF | RFL_AF | RFL_PF, 3, "SUB r64 signed overflow: flags"
        LCHECK rax, 0x7FFFFFFFFFFFFFFF, 3, "SUB r64 signed overflow"
        mov rax, 0                  ; 128-bit: 1:0 - 0:1 = 0:FFFF..FF
        mov rdx, 1
        sub rax, 1
        sbb rdx, 0
        LCHECKF RFL_ARITH, RFL_ZF | RFL_PF, 3, "SBB r64 (128-bit sub): flags"
        LCHECK rdx, 0, 3, "SBB r64 (128-bit sub): high"
        LCHECK rax, -1, 3, "SBB r64 (128-bit sub): low"
        mov rax, 0x100000000
        stc
        sbb rax, 0                  ; the borrow crosses bit 32
        LCHECKF RFL_ARITH, RFL_AF | RFL_PF, 3, "SBB r64 borrow across bit 32: flags"
        LCHECK rax, 0xFFFFFFFF, 3, "SBB r64 borrow across bit 32"
        mov rax, -1
        cmp rax, -1                 ; imm8 sign-extended to 64 bits
        LCHECKF RFL_ARITH, RFL_ZF | RFL_PF, 3, "CMP r64, imm8 sign-extended"
        ; INC/DEC r64 (FF /0, FF /1) leave CF alone
        stc
        mov rax, 0x7FFFFFFFFFFFFFFF
        inc rax
        LCHECKF RFL_ARITH, RFL_CF | RFL_OF | RFL_SF | RFL_AF | RFL_PF, 3, "INC r64 overflow: flags (CF kept)"
        LCHECK rax, 0x8000000000000000, 3, "INC r64"
        clc
        xor eax, eax
        dec rax
        LCHECKF RFL_ARITH, RFL_SF | RFL_AF | RFL_PF, 3, "DEC r64: flags (CF kept)"
        LCHECK rax, -1, 3, "DEC r64"
        mov rax, 0x8000000000000000
        neg rax
        LCHECKF RFL_ARITH, RFL_CF | RFL_OF | RFL_SF | RFL_PF, 3, "NEG r64 of -2^63: flags"
        LCHECK rax, 0x8000000000000000, 3, "NEG r64 of -2^63"
        ; IMUL / MUL: only CF and OF are defined.
        mov rax, 0x100000000
        mov rbx, 0x100000000
        imul rax, rbx               ; 2^64 truncated to 0
        LCHECKF RFL_CF | RFL_OF, RFL_CF | RFL_OF, 3, "IMUL r64, r64 overflow: CF OF"
        LCHECK rax, 0, 3, "IMUL r64, r64 truncated"
        mov rax, 0x40000000
        imul rax, rax
        LCHECKF RFL_CF | RFL_OF, 0, 3, "IMUL r64, r64 fits: CF OF"
        LCHECK rax, 0x1000000000000000, 3, "IMUL r64, r64 = 2^60"
        mov rcx, -3
        imul rax, rcx, 0x7FFFFFFF
        LCHECK rax, 0xFFFFFFFE80000003, 3, "IMUL r64, r64, imm32"
        mov rax, -2
        mov rbx, 0x4000000000000000
        imul rbx                    ; RDX:RAX = -2^63: fits in 64 bits
        LCHECKF RFL_CF | RFL_OF, 0, 3, "IMUL r/m64 -2^63: CF OF"
        LCHECK rdx, -1, 3, "IMUL r/m64 -2^63: RDX"
        LCHECK rax, 0x8000000000000000, 3, "IMUL r/m64 -2^63: RAX"
        mov rax, 2
        imul rbx                    ; RDX:RAX = 2^63: does not fit
        LCHECKF RFL_CF | RFL_OF, RFL_CF | RFL_OF, 3, "IMUL r/m64 2^63: CF OF"
        LCHECK rdx, 0, 3, "IMUL r/m64 2^63: RDX"
        LCHECK rax, 0x8000000000000000, 3, "IMUL r/m64 2^63: RAX"
        mov rax, -1
        mov rcx, -1
        mul rcx
        LCHECKF RFL_CF | RFL_OF, RFL_CF | RFL_OF, 3, "MUL r/m64: CF OF"
        LCHECK rdx, 0xFFFFFFFFFFFFFFFE, 3, "MUL r/m64 (2^64-1)^2: RDX"
        LCHECK rax, 1, 3, "MUL r/m64 (2^64-1)^2: RAX"
        mov rax, 0x100000000
        mov rcx, 0x10
        mul rcx
        LCHECKF RFL_CF | RFL_OF, 0, 3, "MUL r/m64 fits: CF OF"
        LCHECK rdx, 0, 3, "MUL r/m64 fits: RDX"
        LCHECK rax, 0x1000000000, 3, "MUL r/m64 fits: RAX"
        ; DIV / IDIV: RDX:RAX by r/m64
        mov rdx, 1
        xor eax, eax
        mov rcx, 3
        div rcx                     ; 2^64 / 3
        LCHECK rax, 0x5555555555555555, 3, "DIV r/m64 2^64/3: quotient"
        LCHECK rdx, 1, 3, "DIV r/m64 2^64/3: remainder"
        mov rdx, 0x12345678
        mov rax, 0x9ABCDEF011111111
        mov rcx, 0x100000000
        div rcx
        LCHECK rax, 0x123456789ABCDEF0, 3, "DIV r/m64 by 2^32: quotient"
        LCHECK rdx, 0x11111111, 3, "DIV r/m64 by 2^32: remainder"
        mov rax, -7
        cqo
        LCHECK rdx, -1, 3, "CQO"
        mov rcx, 2
        idiv rcx
        LCHECK rax, -3, 3, "IDIV r/m64 -7/2: quotient"
        LCHECK rdx, -1, 3, "IDIV r/m64 -7/2: remainder"
        mov rax, 100
        cqo
        mov rcx, -7
        idiv rcx
        LCHECK rax, -14, 3, "IDIV r/m64 100/-7: quotient"
        LCHECK rdx, 2, 3, "IDIV r/m64 100/-7: remainder"
        ; #DE (Vol. 3A §7.15 "Interrupt 0"): quotient does not fit in 64 bits.
        LEXPECT 0, LNOERR, .de1, .de1r, 3, "#DE idiv r64: -2^63 / -1"
        mov rax, 0x8000000000000000
        cqo
        mov rcx, -1
.de1:   idiv rcx
.de1r:  LEXPECT_DONE
        LEXPECT 0, LNOERR, .de2, .de2r, 3, "#DE div r64: 2^64 / 1"
        mov rdx, 1
        xor eax, eax
        mov rcx, 1
.de2:   div rcx
.de2r:  LEXPECT_DONE
        ; Shifts: 64-bit counts are masked to 6 bits (Vol. 2B SAL/SAR/SHL/SHR,
        ; ROL/ROR/RCL/RCR); CF = the last bit out; OF only for 1-bit shifts.
        mov rax, 3
        shl rax, 63
        LCHECKF RFL_CF | RFL_ZF | RFL_SF | RFL_PF, RFL_CF | RFL_SF | RFL_PF, 3, "SHL r64, 63: flags"
        LCHECK rax, 0x8000000000000000, 3, "SHL r64, 63"
        mov rax, 0x8000000000000001
        shr rax, 63
        LCHECKF RFL_CF | RFL_ZF | RFL_SF | RFL_PF, 0, 3, "SHR r64, 63: flags"
        LCHECK rax, 1, 3, "SHR r64, 63"
        mov rax, 0x8000000000000000
        sar rax, 63
        LCHECKF RFL_CF | RFL_ZF | RFL_SF | RFL_PF, RFL_SF | RFL_PF, 3, "SAR r64, 63: flags"
        LCHECK rax, -1, 3, "SAR r64, 63"
        mov rax, 0x4000000000000000
        shl rax, 1
        LCHECKF RFL_CF | RFL_OF, RFL_OF, 3, "SHL r64, 1 into bit 63: OF"
        mov rax, 0x1234
        mov cl, 64                  ; masked to 0: nothing changes, flags included
        stc
        shl rax, cl
        LCHECKF RFL_CF, RFL_CF, 3, "SHL r64, CL=64 (count 0) keeps CF"
        LCHECK rax, 0x1234, 3, "SHL r64, CL=64 is a shift by 0"
        mov cl, 65
        shl rax, cl
        LCHECK rax, 0x2468, 3, "SHL r64, CL=65 is a shift by 1"
        mov rax, -1
        mov cl, 127
        shr rax, cl
        LCHECK rax, 1, 3, "SHR r64, CL=127 is a shift by 63"
        mov rax, -1
        mov cl, 33
        shl eax, cl                 ; 32-bit: counts masked to 5 bits
        LCHECK rax, 0xFFFFFFFE, 3, "SHL r32, CL=33 is a shift by 1 (zero-extended)"
        mov rax, 0x123456789ABCDEF0
        rol rax, 4
        LCHECK rax, 0x23456789ABCDEF01, 3, "ROL r64, 4"
        ror rax, 12
        LCHECK rax, 0xF0123456789ABCDE, 3, "ROR r64, 12"
        mov cl, 64
        rol rax, cl
        LCHECK rax, 0xF0123456789ABCDE, 3, "ROL r64, CL=64 is a rotate by 0"
        mov rax, 0x8000000000000000
        stc
        rcl rax, 1
        LCHECKF RFL_CF, RFL_CF, 3, "RCL r64, 1: CF = old bit 63"
        LCHECK rax, 1, 3, "RCL r64, 1: bit 0 = old CF"
        mov rax, 0xF
        mov rdx, 0xABCDEF0123456789
        shld rax, rdx, 60
        LCHECK rax, 0xFABCDEF012345678, 3, "SHLD r64, r64, 60"
        mov rax, 0x1122334455667788
        mov rdx, 0xAB
        mov cl, 8
        shrd rax, rdx, cl
        LCHECK rax, 0xAB11223344556677, 3, "SHRD r64, r64, CL=8"
        mov rbx, 0x8000000000000000
        bsr rax, rbx
        LCHECK rax, 63, 3, "BSR r64"
        mov rbx, 0x100000000
        bsf rax, rbx
        LCHECK rax, 32, 3, "BSF r64"
        mov rax, 0x8000000000000000
        bt rax, 63
        LCHECKF RFL_CF, RFL_CF, 3, "BT r64, 63"
        mov rcx, 62
        bts rax, rcx
        LCHECK rax, 0xC000000000000000, 3, "BTS r64, r64"
        LOK "3 64-bit ADD ADC SUB SBB INC DEC NEG IMUL MUL DIV IDIV shifts, flags, #DE"
        ret

; ---------------------------------------------------------- 4. zero-extension
; Vol. 1 §3.4.1.1: "32-bit operands generate a 32-bit result, zero-extended
; to a 64-bit result"; 8- and 16-bit operands leave the rest unchanged.
test_zext:
        mov rax, -1
        mov eax, 0x12345678
        LCHECK rax, 0x12345678, 4, "MOV r32, imm32 zero-extends"
        mov rbx, -1
        add ebx, 1
        LCHECK rbx, 0, 4, "ADD r32 zero-extends"
        mov r9, -1
        xor r9d, r9d
        LCHECK r9, 0, 4, "XOR r9d, r9d clears R9"
        mov r10, -1
        inc r10d
        LCHECK r10, 0, 4, "INC r10d wraps in 32 bits, zero-extends"
        mov rcx, -1
        mov cx, 0x1234
        LCHECK rcx, 0xFFFFFFFFFFFF1234, 4, "MOV r16 keeps bits 63:16"
        add cx, 0xEDCC              ; 1234h + EDCCh = 10000h: carry out of bit 15 only
        LCHECK rcx, 0xFFFFFFFFFFFF0000, 4, "ADD r16 keeps bits 63:16"
        mov rdx, -1
        mov dl, 0
        LCHECK rdx, 0xFFFFFFFFFFFFFF00, 4, "MOV r8 keeps bits 63:8"
        inc dh
        LCHECK rdx, 0xFFFFFFFFFFFF0000, 4, "INC DH keeps the rest"
        ; 90h is NOP even though it is the XCHG EAX, EAX encoding; 87 C0 is a
        ; real XCHG EAX, EAX and zero-extends (Vol. 2B XCHG, NOP).
        mov rax, -1
        db 0x90
        LCHECK rax, -1, 4, "90h (NOP) leaves RAX"
        mov rax, -1
        db 0x87, 0xC0               ; xchg eax, eax
        LCHECK rax, 0xFFFFFFFF, 4, "87 C0 (XCHG EAX, EAX) zero-extends"
        ; CMOVcc r32 writes bits 63:32 with zeros even when the condition is
        ; false (Vol. 2A CMOVcc, Operation).
        mov rax, -1
        mov rbx, 0x55
        xor ecx, ecx                ; ZF=1
        cmovnz eax, ebx
        LCHECK rax, 0xFFFFFFFF, 4, "CMOVNZ r32 (false) zero-extends"
        cmovz eax, ebx
        LCHECK rax, 0x55, 4, "CMOVZ r32 (true)"
        mov rax, -1
        cmovnz rax, rbx
        LCHECK rax, -1, 4, "CMOVNZ r64 (false) keeps"
        ; MOVZX/BSWAP/IMUL/SHL with 32-bit destinations zero-extend too.
        mov rax, -1
        mov rbx, 0xAB
        movzx eax, bl
        LCHECK rax, 0xAB, 4, "MOVZX r32 zero-extends"
        mov rax, -1
        mov ecx, 3
        imul eax, ecx               ; -1 * 3 = -3 in 32 bits
        LCHECK rax, 0xFFFFFFFD, 4, "IMUL r32 zero-extends"
        mov rsi, 0x7FFFFFFF
        lea eax, [rsi + 1]
        LCHECK rax, 0x80000000, 4, "LEA r32 truncates and zero-extends"
        ; 67h: 32-bit address size, the address wraps at 4 GiB.
        mov rcx, 0x1FFFFFFFE
        lea rax, [ecx + 4]
        LCHECK rax, 2, 4, "67h LEA r64, [ECX+4] wraps at 2^32"
        LOK "4 32-bit results zero-extend, 8/16-bit results keep the rest"
        ret

; ----------------------------------------------------------------- 5. MOVSXD
test_movsx:
        mov rbx, 0x1234567880000000
        movsxd rax, ebx             ; REX.W 63 /r (Vol. 2B MOVSX/MOVSXD)
        LCHECK rax, 0xFFFFFFFF80000000, 5, "MOVSXD r64, r32 (negative)"
        mov ebx, 0x7FFFFFFF
        movsxd rax, ebx
        LCHECK rax, 0x7FFFFFFF, 5, "MOVSXD r64, r32 (positive)"
        movsxd r11, dword [sx_dword]
        LCHECK r11, 0xFFFFFFFFFFFFFFFE, 5, "MOVSXD r64, m32"
        mov bl, 0x80
        movsx rax, bl
        LCHECK rax, 0xFFFFFFFFFFFFFF80, 5, "MOVSX r64, r8"
        mov bx, 0x8001
        movsx r8, bx
        LCHECK r8, 0xFFFFFFFFFFFF8001, 5, "MOVSX r64, r16"
        mov rax, -1
        movzx rax, bx
        LCHECK rax, 0x8001, 5, "MOVZX r64, r16"
        LOK "5 MOVSXD, MOVSX/MOVZX to 64 bits"
        ret

; ---------------------------------------------------------- 6. imm64 / moffs
test_imm64:
        mov r11, 0x123456789ABCDEF0 ; REX.W B8+r io (Vol. 2B MOV)
        LCHECK r11, 0x123456789ABCDEF0, 6, "MOV r64, imm64"
        mov rax, strict qword 0x5   ; the imm64 form with a small value
        LCHECK rax, 5, 6, "MOV RAX, imm64 (small value)"
        mov rax, -5                 ; REX.W C7 /0 id: imm32 sign-extended
        LCHECK rax, 0xFFFFFFFFFFFFFFFB, 6, "MOV r/m64, imm32 sign-extends"
        mov rax, 0
        mov eax, 0xFFFFFFFF         ; B8+r id: zero-extended
        LCHECK rax, 0xFFFFFFFF, 6, "MOV r32, imm32 zero-extends"
        ; A0-A3 take a 64-bit absolute offset in 64-bit mode.
        mov rax, [qword moffs_q]    ; REX.W A1 io
        LCHECK rax, 0x0FEDCBA987654321, 6, "MOV RAX, moffs64"
        mov eax, 0xA5A5A5A5
        mov [qword moffs_d], eax    ; A3 io
        LCHECK [moffs_d], 0x55555555A5A5A5A5, 6, "MOV moffs64, EAX (4 bytes)"
        mov al, 0x3C
        mov [qword moffs_d + 7], al ; A2 io
        LCHECK [moffs_d], 0x3C555555A5A5A5A5, 6, "MOV moffs64, AL"
        LOK "6 MOV r64, imm64; moffs64; imm32 sign-extension"
        ret

; ------------------------------------------------------------ 7. RIP-relative
; Vol. 2A §2.2.1.6 "RIP-Relative Addressing": ModRM mod=00 r/m=101 is
; [RIP + disp32], RIP being the address of the next instruction, i.e. after
; any immediate that follows the displacement.
test_riprel:
        mov rax, [rel rip_src]
        LCHECK rax, 0x0123456789ABCDEF, 7, "RIP-relative load"
        mov rax, 0x1111222233334444
        mov [rel rip_dst], rax
        LCHECK [rip_dst], 0x1111222233334444, 7, "RIP-relative store"
        lea rax, [rel rip_src]
        LCHECK rax, rip_src, 7, "LEA RIP-relative"
.here:  lea rax, [rel .here]        ; disp32 = -7: the LEA's own address
        LCHECK rax, .here, 7, "LEA [RIP-7] = the LEA itself"
        mov dword [rel rip_d], 0x11223344       ; C7 05 disp32 imm32
        mov byte [rel rip_b], 0x5A              ; C6 05 disp32 imm8
        mov word [rel rip_w], 0x7788            ; 66 C7 05 disp32 imm16
        add qword [rel rip_a], 0x10             ; REX.W 83 05 disp32 imm8
        LCHECK [rip_d], 0xA1A1A1A111223344, 7, "MOV m32, imm32 RIP-relative"
        LCHECK [rip_b], 0xA2A2A2A2A2A2A25A, 7, "MOV m8, imm8 RIP-relative"
        LCHECK [rip_w], 0xA3A3A3A3A3A37788, 7, "MOV m16, imm16 RIP-relative"
        LCHECK [rip_a], 0x0000000000000110, 7, "ADD m64, imm8 RIP-relative"
        LCHECK [rip_g0], 0xB0B0B0B0B0B0B0B0, 7, "guard before the RIP-relative targets"
        LCHECK [rip_g1], 0xB1B1B1B1B1B1B1B1, 7, "guard after rip_d"
        LCHECK [rip_g2], 0xB2B2B2B2B2B2B2B2, 7, "guard after rip_b"
        LCHECK [rip_g3], 0xB3B3B3B3B3B3B3B3, 7, "guard after rip_w"
        LCHECK [rip_g4], 0xB4B4B4B4B4B4B4B4, 7, "guard after rip_a"
        cmp qword [rel rip_a], 0x110            ; REX.W 81 3D disp32 imm32
        LCHECKF RFL_ZF, RFL_ZF, 7, "CMP m64, imm32 RIP-relative"
        ; indirect CALL and JMP through RIP-relative pointers
        xor eax, eax
        call [rel rip_fnptr]
        LCHECK rax, 0x77, 7, "CALL [RIP+disp32]"
        jmp [rel rip_jmpptr]
        LFAIL 7, "JMP [RIP+disp32] fell through"
rip_jmp_target:
        LOK "7 RIP-relative load, store, LEA, immediates after disp32, CALL/JMP m64"
        ret
rip_fn: mov eax, 0x77
        ret

; ------------------------------------------------------------------ 8. PUSH
; Vol. 2B PUSH/POP: 64-bit operand size by default; 66h gives 16 bits;
; 32-bit pushes cannot be encoded. PUSH RSP pushes the value before the push.
test_push:
        mov rbx, rsp
        mov rax, 0x1122334455667788
        push rax
        mov rcx, rbx
        sub rcx, rsp
        LCHECK rcx, 8, 8, "PUSH r64 moves RSP by 8"
        LCHECK [rbx - 8], 0x1122334455667788, 8, "PUSH r64 value"
        pop rdx
        LCHECK rdx, 0x1122334455667788, 8, "POP r64"
        mov rcx, rsp
        LCHECK rcx, rbx, 8, "POP r64 moves RSP back"
        push -1                     ; 6A ib
        LCHECK [rbx - 8], -1, 8, "PUSH imm8 sign-extends to 64 bits"
        push -0x80000000            ; 68 id
        LCHECK [rbx - 16], 0xFFFFFFFF80000000, 8, "PUSH imm32 sign-extends to 64 bits"
        add rsp, 16
        mov qword [rbx - 8], 0
        mov ax, 0xBEEF
        push ax                     ; 66 50
        mov rcx, rbx
        sub rcx, rsp
        mov rdx, [rbx - 8]          ; before LCHECK pushes over it
        LCHECK rcx, 2, 8, "66h PUSH r16 moves RSP by 2"
        LCHECK rdx, 0xBEEF000000000000, 8, "66h PUSH r16 value"
        pop dx
        mov rcx, rsp
        LCHECK rcx, rbx, 8, "66h POP r16 moves RSP by 2"
        mov r12, 0xCAFE
        push r12                    ; 41 54
        pop r13                     ; 41 5D
        LCHECK r13, 0xCAFE, 8, "PUSH R12 / POP R13"
        push qword [push_src]
        pop qword [push_dst]
        LCHECK [push_dst], 0x0102030405060708, 8, "PUSH m64 / POP m64"
        push rsp
        LCHECK [rbx - 8], rbx, 8, "PUSH RSP pushes the old RSP"
        pop rsp
        mov rcx, rsp
        LCHECK rcx, rbx, 8, "POP RSP loads the popped value"
        mov qword [rbx - 8], 0      ; PUSH FS may write only 16 bits (Vol. 2B PUSH)
        push fs
        mov rcx, rbx
        sub rcx, rsp
        LCHECK rcx, 8, 8, "PUSH FS moves RSP by 8"
        pop rax
        mov rcx, fs
        LCHECK rax, rcx, 8, "PUSH FS / POP"
        pushfq
        pop rax
        and eax, 2
        LCHECK rax, 2, 8, "PUSHFQ (bit 1 set)"
        LOK "8 PUSH/POP 64-bit default, imm sign-extension, 66h, RSP, FS"
        ret

; ------------------------------------------------------------------ 9. CALL
test_call:
        mov rbx, rsp
        call .sub1                  ; E8 cd: pushes the 8-byte RIP of the next instruction
.after1:
        LCHECK [call_ret], .after1, 9, "CALL rel32 pushes the return RIP"
        LCHECK [call_depth], 8, 9, "CALL rel32 moves RSP by 8"
        mov rcx, rsp
        LCHECK rcx, rbx, 9, "RET restores RSP"
        push 1
        push 2
        call .sub2                  ; RET 16 drops the two pushes too
        mov rcx, rsp
        LCHECK rcx, rbx, 9, "RET imm16"
        mov rax, .sub3
        xor edx, edx
        call rax                    ; FF /2, 64-bit register
        LCHECK rdx, 0x33, 9, "CALL r64"
        xor edx, edx
        call [call_ptr]             ; FF /2, m64
        LCHECK rdx, 0x33, 9, "CALL m64"
        mov rax, .jmp_target
        jmp rax
        LFAIL 9, "JMP r64 fell through"
.jmp_target:
        LOK "9 near CALL/RET with 8-byte return addresses"
        ret
.sub1:  mov rax, [rsp]
        mov [call_ret], rax
        mov rax, rbx
        sub rax, rsp
        mov [call_depth], rax
        ret
.sub2:  ret 16
.sub3:  mov edx, 0x33
        ret

; -------------------------------------------------------- 10. CMPXCHG16B/8B
; Vol. 2A CMPXCHG8B/CMPXCHG16B: compare RDX:RAX with m128; equal: ZF=1 and
; m128 = RCX:RBX; else ZF=0 and RDX:RAX = m128. The operand must be 16-byte
; aligned (#GP(0) otherwise). CMPXCHG16B exists if CPUID.01H:ECX.CX16[bit 13].
test_cmpxchg:
        mov eax, 1
        cpuid
        bt ecx, 13
        jc .cx16
        LPRINTLN "skip CMPXCHG16B: CPUID.01H:ECX.CX16=0"
        jmp .cx8
.cx16:  mov rax, 0x1111111111111111
        mov rdx, 0x2222222222222222
        mov rbx, 0x3333333333333333
        mov rcx, 0x4444444444444444
        lock cmpxchg16b [cx16_area]
        LCHECKF RFL_ZF, RFL_ZF, 10, "CMPXCHG16B equal: ZF=1"
        LCHECK [cx16_area], 0x3333333333333333, 10, "CMPXCHG16B equal: low qword stored"
        LCHECK [cx16_area + 8], 0x4444444444444444, 10, "CMPXCHG16B equal: high qword stored"
        LCHECK rax, 0x1111111111111111, 10, "CMPXCHG16B equal: RAX kept"
        LCHECK rdx, 0x2222222222222222, 10, "CMPXCHG16B equal: RDX kept"
        mov rbx, 0x5555555555555555
        mov rcx, 0x6666666666666666
        cmpxchg16b [cx16_area]      ; RDX:RAX still the old value: not equal now
        LCHECKF RFL_ZF, 0, 10, "CMPXCHG16B not equal: ZF=0"
        LCHECK rax, 0x3333333333333333, 10, "CMPXCHG16B not equal: RAX = low qword"
        LCHECK rdx, 0x4444444444444444, 10, "CMPXCHG16B not equal: RDX = high qword"
        LCHECK [cx16_area], 0x3333333333333333, 10, "CMPXCHG16B not equal: memory kept"
        LEXPECT 13, 0, .gp, .gpr, 10, "#GP(0) CMPXCHG16B on a misaligned operand"
.gp:    cmpxchg16b [cx16_area + 8]
.gpr:   LEXPECT_DONE
        LOK "10a CMPXCHG16B"
.cx8:   ; CMPXCHG8B without REX.W: EDX:EAX against m64.
        mov rax, 0xFFFFFFFF66666666 ; bits 63:32 are not part of the compare
        mov rdx, 0xFFFFFFFF55555555
        mov ebx, 0x88888888
        mov ecx, 0x77777777
        cmpxchg8b [cx8_area]
        LCHECKF RFL_ZF, RFL_ZF, 10, "CMPXCHG8B equal: ZF=1"
        LCHECK [cx8_area], 0x7777777788888888, 10, "CMPXCHG8B equal: stored ECX:EBX"
        mov eax, eax                ; on success EDX:EAX is not written: check the low halves
        LCHECK rax, 0x66666666, 10, "CMPXCHG8B equal: EAX kept"
        mov rax, -1
        mov rdx, -1
        cmpxchg8b [cx8_area]
        LCHECKF RFL_ZF, 0, 10, "CMPXCHG8B not equal: ZF=0"
        LCHECK rax, 0x88888888, 10, "CMPXCHG8B not equal: EAX loaded, zero-extended"
        LCHECK rdx, 0x77777777, 10, "CMPXCHG8B not equal: EDX loaded, zero-extended"
        LOK "10 CMPXCHG8B"
        ret

; ---------------------------------------------------------------- 11. BSWAP
test_bswap:
        mov rax, 0x0102030405060708
        bswap rax                   ; REX.W 0F C8
        LCHECK rax, 0x0807060504030201, 11, "BSWAP r64"
        mov r9, 0x1122334455667788
        bswap r9                    ; REX.WB 0F C9
        LCHECK r9, 0x8877665544332211, 11, "BSWAP R9"
        mov rax, 0xFFFFFFFF11223344
        bswap eax
        LCHECK rax, 0x44332211, 11, "BSWAP r32 zero-extends"
        LOK "11 BSWAP r64, r32"
        ret

; --------------------------------------------------------------- 12. strings
; Vol. 2B MOVS/STOS/LODS/SCAS/CMPS and REP: 64-bit address size uses RSI,
; RDI and RCX; Q forms (REX.W) move 8 bytes and step by 8.
test_string:
        mov rsi, str_src
        mov rdi, str_dst
        mov rcx, 5
        rep movsq
        LCHECK rcx, 0, 12, "REP MOVSQ: RCX"
        LCHECK rsi, str_src + 40, 12, "REP MOVSQ: RSI"
        LCHECK rdi, str_dst + 40, 12, "REP MOVSQ: RDI"
        LCHECK [str_dst + 40], 0xEEEEEEEEEEEEEEEE, 12, "REP MOVSQ: guard after"
        mov rsi, str_src
        mov rdi, str_dst
        mov rcx, 5
        repe cmpsq
        LCHECKF RFL_ZF, RFL_ZF, 12, "REP MOVSQ copied all five (REPE CMPSQ)"
        LCHECK rcx, 0, 12, "REPE CMPSQ to the end: RCX"
        mov qword [str_dst + 16], 0
        mov rsi, str_src
        mov rdi, str_dst
        mov rcx, 5
        repe cmpsq                  ; stops after the third
        LCHECKF RFL_ZF, 0, 12, "REPE CMPSQ mismatch: ZF"
        LCHECK rcx, 2, 12, "REPE CMPSQ mismatch: RCX"
        LCHECK rsi, str_src + 24, 12, "REPE CMPSQ mismatch: RSI"
        mov rax, 0x5A5A5A5A5A5A5A5A
        mov rdi, stos_area
        mov rcx, 3
        rep stosq
        LCHECK rdi, stos_area + 24, 12, "REP STOSQ: RDI"
        LCHECK [stos_area], 0x5A5A5A5A5A5A5A5A, 12, "REP STOSQ: first"
        LCHECK [stos_area + 16], 0x5A5A5A5A5A5A5A5A, 12, "REP STOSQ: third"
        LCHECK [stos_area + 24], 0xEEEEEEEEEEEEEEEE, 12, "REP STOSQ: guard after"
        mov rsi, str_src + 8
        lodsq
        LCHECK rax, 0x2020202020202020, 12, "LODSQ: RAX"
        LCHECK rsi, str_src + 16, 12, "LODSQ: RSI"
        mov rax, [str_src + 24]
        mov rdi, str_src
        mov rcx, 5
        repne scasq
        LCHECKF RFL_ZF, RFL_ZF, 12, "REPNE SCASQ found: ZF"
        LCHECK rcx, 1, 12, "REPNE SCASQ: RCX"
        LCHECK rdi, str_src + 32, 12, "REPNE SCASQ: RDI"
        ; DF=1: backwards, step -8
        std
        mov rsi, str_src + 32
        mov rdi, str_dst2 + 32
        mov rcx, 5
        rep movsq
        cld
        LCHECK rsi, str_src - 8, 12, "REP MOVSQ, DF=1: RSI"
        LCHECK rdi, str_dst2 - 8, 12, "REP MOVSQ, DF=1: RDI"
        LCHECK [str_dst2], 0x1010101010101010, 12, "REP MOVSQ, DF=1: first"
        LCHECK [str_dst2 + 32], 0x5050505050505050, 12, "REP MOVSQ, DF=1: last"
        ; MOVSD (the string one) steps by 4 with 64-bit addresses.
        mov rsi, str_src
        mov rdi, str_dst2
        movsd
        LCHECK rsi, str_src + 4, 12, "MOVSD: RSI"
        LOK "12 REP MOVSQ/STOSQ, LODSQ, SCASQ, CMPSQ, DF=1"
        ret

; ------------------------------------------------------------- 13. canonical
; Vol. 1 §3.3.7.1 "Canonical Addressing": a memory reference with a
; non-canonical address raises #GP(0), or #SS(0) when it goes through SS
; (RSP or RBP as the base). Vol. 2B MOV "64-Bit Mode Exceptions".
; #SS and #GP run on IST1 (the RSP test has no usable stack).
test_canonical:
        LSET_IST 12, 1
        LSET_IST 13, 1
        mov rax, 0x0000800000000000 ; the first non-canonical address
        LEXPECT 13, 0, .l1, .l1r, 13, "#GP(0) load from 0000800000000000"
.l1:    mov rbx, [rax]
.l1r:   LEXPECT_DONE
        mov rax, 0xFFFF7FFFFFFFFFF8 ; the last non-canonical qword
        LEXPECT 13, 0, .l2, .l2r, 13, "#GP(0) store to FFFF7FFFFFFFFFF8"
.l2:    mov [rax], rbx
.l2r:   LEXPECT_DONE
        mov rax, 0x00007FFFFFFFFFF8 ; canonical: it computes, and the add wraps nothing
        add rax, 8
        LCHECK rax, 0x0000800000000000, 13, "address arithmetic itself never faults"
        ; Through RBP: the segment is SS.
        mov rbp, 0x8000000000000000
        LEXPECT 12, 0, .l3, .l3r, 13, "non-canonical [RBP] (SS access) faults, error code 0"
        call ss_alt
.l3:    mov rbx, [rbp]
.l3r:   LEXPECT_DONE
        call ss_report
        ; Through RSP.
        mov [lexp_fix_rsp], rsp     ; the hook puts it back in the frame
        mov [canon_rsp], rsp
        LEXPECT 12, 0, .l4, .l4r, 13, "non-canonical [RSP] (SS access) faults, error code 0"
        call ss_alt
        mov rsp, 0x0000800000000010
.l4:    mov rbx, [rsp]
.l4r:   mov rsp, [canon_rsp]
        LEXPECT_DONE
        call ss_report
        ; The frame went to the IST1 stack: 5 qwords and an error code below
        ; ist1_top (already 16-aligned; Vol. 3A §7.14.5).
        mov rax, [lexp_frame]
        add rax, LF_RIP
        LCHECK rax, ist1_top - 40, 13, "#SS/#GP frame on the IST1 stack"
        LSET_IST 12, 0
        LSET_IST 13, 0
        LOK "13 non-canonical addresses: #GP(0), #SS(0)"
        ret

; ss_alt: unless built with -DSTRICT_SDM, the stack-segment checks above also
; accept #GP(0): QEMU 7.2's TCG page walker raises #GP for every
; non-canonical address. ss_report says which vector came.
ss_alt:
%ifndef STRICT_SDM
        mov qword [lexp_vec_alt], 13
%endif
        ret
ss_report:
        mov qword [lexp_vec_alt], -1
        cmp qword [lexp_gotvec], 12
        je .ss
        LPRINTLN "note: #GP(0) where the SDM says #SS(0) (accepted: QEMU 7.2 does this; -DSTRICT_SDM to refuse)"
        ret
.ss:    LPRINTLN "ok it was #SS(0), as the SDM says"
        ret

; ---------------------------------------------------- 14. compatibility mode
; Vol. 3A §2.2 / §3.4.5: in IA-32e mode a code segment with L=0 runs in
; compatibility mode (D=1: 32-bit defaults). Far transfers switch between the
; two (Vol. 2A JMP, CALL; Vol. 2B RET). The upper halves of the registers are
; undefined after compatibility mode (Vol. 1 §3.4.1.1): only low halves are
; checked, and RSP is reloaded.
test_compat:
        mov [compat_rsp], rsp
        ; a. far JMP m16:32 (FF /5 without REX.W) to 0x08, a 32-bit segment
        jmp dword far [cptr_a]
        bits 32
compat_a:
        mov eax, 5
        db 0x40                     ; INC EAX here (a REX prefix in 64-bit mode)
        db 0x40
        mov [compat_inc], eax
        mov ebx, 10
        db 0x4B                     ; DEC EBX
        mov [compat_dec], ebx
        mov eax, cs
        mov [compat_cs], eax
        mov ebx, esp
        push eax                    ; a 4-byte push
        sub ebx, esp
        pop eax
        mov [compat_push], ebx
        mov ecx, MSR_EFER
        rdmsr
        mov [compat_efer], eax
        jmp SEL_CODE64:compat_back_a ; EA ptr16:32 back into 64-bit mode
        bits 64
compat_back_a:
        mov rsp, [compat_rsp]
        mov rax, cs
        LCHECK rax, SEL_CODE64, 14, "CS after the far JMP back"
        mov eax, [compat_cs]
        LCHECK rax, SEL_CODE0, 14, "CS in compatibility mode"
        mov eax, [compat_inc]
        LCHECK rax, 7, 14, "40h is INC EAX in compatibility mode"
        mov eax, [compat_dec]
        LCHECK rax, 9, 14, "4Bh is DEC EBX in compatibility mode"
        mov eax, [compat_push]
        LCHECK rax, 4, 14, "PUSH r32 moves ESP by 4 in compatibility mode"
        mov eax, [compat_efer]
        and eax, EFER_LMA | EFER_LME
        LCHECK rax, EFER_LMA | EFER_LME, 14, "EFER.LMA=1 in compatibility mode"
        LOK "14a far JMP to compatibility mode and back"

        ; c. the 64-bit call gate (Vol. 3A §6.8.3.1 "IA-32e Mode Call Gates",
        ; figure 6-9): 16 bytes, offset 63:0, selector 0x18, type 1100b,
        ; DPL 0; the upper type field (bits 12:8 of dword 3) must be 0.
        mov rax, gate64_target
        mov rdi, gdt_gate64
        mov [rdi], ax
        mov word [rdi + 2], SEL_CODE64
        mov byte [rdi + 4], 0
        mov byte [rdi + 5], 0x8C    ; P=1, DPL 0, type 1100b
        shr rax, 16
        mov [rdi + 6], ax
        shr rax, 16
        mov [rdi + 8], eax
        mov dword [rdi + 12], 0

        ; b. far CALL m16:32 into compatibility mode; a 32-bit RETF returns.
        mov rbx, rsp
        call dword far [cptr_b]     ; FF /3: pushes CS and EIP, 4 bytes each
compat_b_ret:
        mov rsp, [compat_rsp]
        mov rax, cs
        LCHECK rax, SEL_CODE64, 14, "CS after the 32-bit RETF"
        mov eax, [compat_ret_eip]
        LCHECK rax, compat_b_ret, 14, "far CALL m16:32 pushed EIP"
        movzx eax, word [compat_ret_cs]
        LCHECK rax, SEL_CODE64, 14, "far CALL m16:32 pushed CS"
        mov eax, [compat_call_depth]
        LCHECK rax, 8, 14, "far CALL m16:32 pushed 8 bytes"
        LOK "14b far CALL into compatibility mode, RETF back"
        LCHECK [gate_cs], SEL_CODE64, 14, "CS in the call gate's target"
        LCHECK [gate_ret_rip], compat_gate_ret, 14, "call gate: pushed RIP (8 bytes)"
        mov eax, [gate_ret_cs]
        movzx eax, ax
        LCHECK rax, SEL_CODE0, 14, "call gate: pushed CS (8 bytes)"
        mov eax, [compat_after_gate]
        LCHECK rax, 0x600D, 14, "compatibility code ran after RETFQ"
        LOK "14c 64-bit call gate from compatibility mode, RETFQ back"
        ret

        bits 32
compat_b:
        mov eax, [esp]
        mov [compat_ret_eip], eax
        mov eax, [esp + 4]
        mov [compat_ret_cs], eax
        mov eax, ebx                ; 64-bit RSP before the call (low half)
        sub eax, esp
        mov [compat_call_depth], eax
        call SEL_GATE64:0           ; 9A: the offset is ignored for a gate
compat_gate_ret:
        mov dword [compat_after_gate], 0x600D
        retf                        ; 32-bit RETF: pops EIP and CS
        bits 64
gate64_target:
        ; A call through a 64-bit gate pushes CS and RIP as 8 bytes each, in
        ; 64-bit mode (Vol. 2A CALL, "IA-32e mode call gate").
        mov rax, cs
        mov [gate_cs], rax
        mov rax, [rsp]
        mov [gate_ret_rip], rax
        mov rax, [rsp + 8]
        mov [gate_ret_cs], rax
        o64 retf                    ; REX.W RETF: pops 8-byte RIP and CS

; ------------------------------------------------------------- 15. FS and GS
; Vol. 3A §3.4.4 "Segment Loading Instructions in IA-32e Mode": the FS
; and GS bases are the MSRs C0000100h and C0000101h; SWAPGS exchanges GS base
; with IA32_KERNEL_GS_BASE (C0000102h) (Vol. 2B SWAPGS).
test_fsgs:
        mov ecx, MSR_FS_BASE
        mov rax, fs_area
        call wrmsr64
        call rdmsr64
        LCHECK rax, fs_area, 15, "RDMSR FS_BASE"
        mov rax, [fs:8]
        LCHECK rax, 0xF5F5F5F5F5F5F501, 15, "load through FS"
        mov qword [fs:16], 0x12345
        LCHECK [fs_area + 16], 0x12345, 15, "store through FS"
        ; an FS override on a RIP-relative operand adds the base
        mov ecx, MSR_FS_BASE
        mov eax, 8
        call wrmsr64
        mov rax, [fs:rel fs_area]
        LCHECK rax, 0xF5F5F5F5F5F5F501, 15, "FS on a RIP-relative operand"
        ; a base above 4 GiB; the effective address wraps modulo 2^64
        mov ecx, MSR_FS_BASE
        mov rax, fs_area + 0x100000000
        call wrmsr64
        mov rbx, -0x100000000
        mov rax, [fs:rbx + 8]
        LCHECK rax, 0xF5F5F5F5F5F5F501, 15, "FS base above 4 GiB, address wraps"
        ; MOV FS, non-null selector in 64-bit mode loads the base from the
        ; descriptor (0 here).
        mov ax, SEL_DATA64
        mov fs, ax
        mov ecx, MSR_FS_BASE
        call rdmsr64
        LCHECK rax, 0, 15, "MOV FS, sel loads the descriptor base"
        ; GS and SWAPGS
        mov ecx, MSR_GS_BASE
        mov rax, gs_user
        call wrmsr64
        mov ecx, MSR_KERNEL_GS_BASE
        mov rax, gs_kern
        call wrmsr64
        call rdmsr64
        LCHECK rax, gs_kern, 15, "RDMSR KERNEL_GS_BASE"
        mov rax, [gs:0]
        LCHECK rax, 0x0005E55E0005E55E, 15, "load through GS (user base)"
        swapgs
        mov rax, [gs:0]
        LCHECK rax, 0x00C0DE00C0DE00C0, 15, "load through GS after SWAPGS"
        mov ecx, MSR_GS_BASE
        call rdmsr64
        LCHECK rax, gs_kern, 15, "GS_BASE after SWAPGS"
        mov ecx, MSR_KERNEL_GS_BASE
        call rdmsr64
        LCHECK rax, gs_user, 15, "KERNEL_GS_BASE after SWAPGS"
        swapgs
        mov ecx, MSR_GS_BASE
        call rdmsr64
        LCHECK rax, gs_user, 15, "GS_BASE after the second SWAPGS"
        LOK "15 FS/GS base MSRs, fs:/gs: accesses, SWAPGS"
        ; RDFSBASE/WRFSBASE/RDGSBASE/WRGSBASE: CPUID.(EAX=07H,ECX=0):EBX[bit 0],
        ; enabled by CR4.FSGSBASE; #UD while CR4.FSGSBASE=0 (Vol. 2B).
        xor eax, eax
        cpuid
        cmp eax, 7
        jb .nofsgs
        mov eax, 7
        xor ecx, ecx
        cpuid
        bt ebx, 0
        jc .fsgs
.nofsgs:
        LPRINTLN "skip RD/WR FS/GS BASE: CPUID.07H:EBX.FSGSBASE=0"
        ret
.fsgs:  LEXPECT 6, LNOERR, .ud, .udr, 15, "#UD RDFSBASE with CR4.FSGSBASE=0"
.ud:    rdfsbase rax
.udr:   LEXPECT_DONE
        mov rax, cr4
        or rax, CR4_FSGSBASE
        mov cr4, rax
        mov rax, fs_area
        wrfsbase rax
        mov ecx, MSR_FS_BASE
        call rdmsr64
        LCHECK rax, fs_area, 15, "WRFSBASE -> FS_BASE MSR"
        mov rax, [fs:8]
        LCHECK rax, 0xF5F5F5F5F5F5F501, 15, "load through FS after WRFSBASE"
        rdgsbase rbx
        LCHECK rbx, gs_user, 15, "RDGSBASE"
        mov rax, cr4
        and rax, ~CR4_FSGSBASE
        mov cr4, rax
        LOK "15b RDFSBASE/WRFSBASE/RDGSBASE"
        ret

; wrmsr64: MSR ECX = RAX. rdmsr64: RAX = MSR ECX. Preserve other registers.
wrmsr64:
        push rdx
        mov rdx, rax
        shr rdx, 32
        wrmsr
        pop rdx
        ret
rdmsr64:
        push rdx
        rdmsr
        shl rdx, 32
        mov eax, eax
        or rax, rdx
        pop rdx
        ret

; ---------------------------------------------------------------- 16. RDTSCP
; Vol. 2B RDTSCP: EDX:EAX = TSC, ECX = IA32_TSC_AUX[31:0]; 32-bit writes,
; so bits 63:32 of RAX, RDX, RCX are cleared. CPUID.80000001H:EDX.RDTSCP[27].
test_rdtscp:
        mov eax, 0x80000001
        cpuid
        bt edx, 27
        jc .has
        LPRINTLN "skip RDTSCP: CPUID.80000001H:EDX.RDTSCP=0"
        ret
.has:   mov ecx, MSR_TSC_AUX
        mov eax, 0x00C0FFEE
        xor edx, edx
        wrmsr
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov r8, rax
        mov rax, -1
        mov rcx, -1
        mov rdx, -1
        rdtscp
        LCHECK rcx, 0x00C0FFEE, 16, "RDTSCP: RCX = TSC_AUX, zero-extended"
        mov r9, rax
        shr r9, 32
        LCHECK r9, 0, 16, "RDTSCP: RAX bits 63:32 cleared"
        mov r9, rdx
        shr r9, 32
        LCHECK r9, 0, 16, "RDTSCP: RDX bits 63:32 cleared"
        shl rdx, 32
        or rax, rdx
        cmp rax, r8
        jae .mono
        mov [lchk_got], rax
        mov [lchk_want], r8
        LPRINT "FAIL RDTSCP went backwards from RDTSC: "
        mov cl, 16
        jmp lcheck_failed_values
.mono:  LOK "16 RDTSCP, IA32_TSC_AUX"
        ret

        section .data
        align 8
rex_arr:        dq 0, 0x1111111111111111, 0x2222222222222222, 0x3333333333333333
rex_dword:      dd 0xC0FFEE11, 0
sx_dword:       dd -2, 0
moffs_q:        dq 0x0FEDCBA987654321
moffs_d:        dq 0x5555555555555555
rip_src:        dq 0x0123456789ABCDEF
rip_dst:        dq 0
rip_g0:         dq 0xB0B0B0B0B0B0B0B0
rip_d:          dq 0xA1A1A1A1A1A1A1A1
rip_g1:         dq 0xB1B1B1B1B1B1B1B1
rip_b:          dq 0xA2A2A2A2A2A2A2A2
rip_g2:         dq 0xB2B2B2B2B2B2B2B2
rip_w:          dq 0xA3A3A3A3A3A3A3A3
rip_g3:         dq 0xB3B3B3B3B3B3B3B3
rip_a:          dq 0x100
rip_g4:         dq 0xB4B4B4B4B4B4B4B4
rip_fnptr:      dq rip_fn
rip_jmpptr:     dq rip_jmp_target
push_src:       dq 0x0102030405060708
push_dst:       dq 0
call_ptr:       dq test_call.sub3
        align 16
cx16_area:      dq 0x1111111111111111, 0x2222222222222222, 0, 0
cx8_area:       dq 0x5555555566666666
str_src:        dq 0x1010101010101010, 0x2020202020202020, 0x3030303030303030
                dq 0x4040404040404040, 0x5050505050505050
str_dst:        dq 0, 0, 0, 0, 0, 0xEEEEEEEEEEEEEEEE
str_dst2:       dq 0, 0, 0, 0, 0, 0xEEEEEEEEEEEEEEEE
stos_area:      dq 0, 0, 0, 0xEEEEEEEEEEEEEEEE
cptr_a:         dd compat_a
                dw SEL_CODE0
cptr_b:         dd compat_b
                dw SEL_CODE0
        align 8
fs_area:        dq 0xF5F5F5F5F5F5F500, 0xF5F5F5F5F5F5F501, 0
gs_user:        dq 0x0005E55E0005E55E
gs_kern:        dq 0x00C0DE00C0DE00C0

        section .bss
        alignb 8
call_ret:       resq 1
call_depth:     resq 1
canon_rsp:      resq 1
compat_rsp:     resq 1
compat_inc:     resq 1
compat_dec:     resq 1
compat_cs:      resq 1
compat_push:    resq 1
compat_efer:    resq 1
compat_ret_eip: resq 1
compat_ret_cs:  resq 1
compat_call_depth: resq 1
compat_after_gate: resq 1
gate_cs:        resq 1
gate_ret_rip:   resq 1
gate_ret_cs:    resq 1
        section .text

%include "end.inc"
