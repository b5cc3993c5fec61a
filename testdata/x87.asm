; x87.asm: the x87 FPU (SDM Vol. 1 chapter 8). Arithmetic in 80-bit and
; with precision control, stores to double and extended, compares through
; FNSTSW/SAHF and FCOMI, FISTP in the four rounding modes, FBSTP, FSAVE/FRSTOR
; and FXSAVE/FXRSTOR images, an unmasked exception raising #MF on the next
; FWAIT and on the next waiting x87 instruction (CR0.NE=1), #NM with CR0.TS
; (and WAIT with TS+MP). The expected values are exact (checked by hand and
; on QEMU's softfloat x87, see README.md).
; Verdict: 0 = all passed, else the number of the failing check (below).
%include "common.inc"
%include "idt.inc"
%include "expect.inc"

CR0_MP  equ 1 << 1
CR0_TS  equ 1 << 3
CR0_NE  equ 1 << 5
CR4_OSFXSR equ 1 << 9

main:
        call idt_init
        call expect_install
        mov eax, cr0
        or eax, CR0_NE              ; #MF, not FERR#
        and eax, ~(CR0_TS | 1 << 2) ; TS=0, EM=0
        mov cr0, eax
        mov eax, cr4
        or eax, CR4_OSFXSR
        mov cr4, eax

; 1. 1 + pi (FLDPI = 0x4000 C90FDAA22168C235) stored as a double.
        fninit
        fld1
        fldpi
        faddp st1, st0
        fstp qword [res]
        CHECK_EQ [res], 0xAA22168C, 1, "1+pi double low"
        CHECK_EQ [res + 4], 0x401090FD, 1, "1+pi double high"

; 2. sqrt(2) in extended precision: 0x3FFF B504F333F9DE6484 (rounded down).
        fild dword [two]
        fsqrt
        fstp tword [res]
        CHECK_EQ [res], 0xF9DE6484, 2, "sqrt2 low"
        CHECK_EQ [res + 4], 0xB504F333, 2, "sqrt2 high"
        CHECK_EQ [res + 8], 0x3FFF, 2, "sqrt2 exponent"
        fnstsw ax
        and eax, 0x3F
        CHECK_EQ eax, 0x20, 2, "sqrt2 flags (PE)"

; 3. Precision control 24 bits: 10/3 = 0x4000 D555550000000000.
        fldcw [cw_pc24]
        fild dword [ten]
        fild dword [three]
        fdivp st1, st0
        fstp tword [res]
        fldcw [cw_default]
        CHECK_EQ [res], 0, 3, "10/3 pc24 low"
        CHECK_EQ [res + 4], 0xD5555500, 3, "10/3 pc24 high"

; 4. FCOM, FNSTSW AX, SAHF: pi > 1 (C3 C2 C0 = 000: ZF=0 PF=0 CF=0).
        fld1
        fldpi
        fcom st1
        fnstsw ax
        sahf
        ja .c4ok
        movzx eax, ax
        CHECK_EQ eax, 0, 4, "fcom pi,1 status"
.c4ok:
; 5. FCOMI and FUCOMIP: pi > 1, then 1 < pi.
        fcomi st0, st1
        jbe .c5bad
        fxch st1
        fucomip st0, st1            ; pops the 1
        jae .c5bad
        fstp st0
        fnstsw ax
        and eax, 0x3800
        CHECK_EQ eax, 0, 5, "stack empty after the compares (TOP)"
        jmp .c5ok
.c5bad: FAIL 5, "fcomi/fucomip flags"
.c5ok:

; 6. FISTP of -2.5 and 2.5 in RC nearest, down, up, chop.
        xor ecx, ecx
.rc:    fldcw [cw_rc + ecx*2]
        fld qword [m2_5]
        fistp dword [ints + ecx*8]
        fld qword [p2_5]
        fistp dword [ints + ecx*8 + 4]
        inc ecx
        cmp ecx, 4
        jb .rc
        fldcw [cw_default]
        CHECK_EQ [ints], -2, 6, "fistp -2.5 nearest"
        CHECK_EQ [ints + 4], 2, 6, "fistp 2.5 nearest"
        CHECK_EQ [ints + 8], -3, 6, "fistp -2.5 down"
        CHECK_EQ [ints + 12], 2, 6, "fistp 2.5 down"
        CHECK_EQ [ints + 16], -2, 6, "fistp -2.5 up"
        CHECK_EQ [ints + 20], 3, 6, "fistp 2.5 up"
        CHECK_EQ [ints + 24], -2, 6, "fistp -2.5 chop"
        CHECK_EQ [ints + 28], 2, 6, "fistp 2.5 chop"

; 7. FBSTP of 12345.5: 12346 (nearest even) in packed BCD.
        fld qword [v12345_5]
        fbstp [res]
        CHECK_EQ [res], 0x00012346, 7, "fbstp low"
        CHECK_EQ [res + 4], 0, 7, "fbstp middle"
        movzx eax, word [res + 8]
        CHECK_EQ eax, 0, 7, "fbstp sign"

; 8. FSAVE image (32-bit protected mode, SDM Vol. 1 Figure 8-10), FRSTOR.
        fninit
        fld1
        fldpi
        fldz
        fsave [fsbuf]
        movzx eax, word [fsbuf]
        CHECK_EQ eax, 0x037F, 8, "fsave FCW"
        movzx eax, word [fsbuf + 4]
        and eax, 0x3800
        CHECK_EQ eax, 5 << 11, 8, "fsave TOP"
        movzx eax, word [fsbuf + 8]
        CHECK_EQ eax, 0x07FF, 8, "fsave tag word (R5 zero, R6 R7 valid)"
        CHECK_EQ [fsbuf + 28 + 10 + 4], 0xC90FDAA2, 8, "fsave ST1 = pi"
        fnstsw ax                   ; FSAVE initialized the FPU
        and eax, 0x3800
        CHECK_EQ eax, 0, 8, "TOP after fsave"
        frstor [fsbuf]
        fstp tword [res]            ; 0
        fstp tword [res]            ; pi
        CHECK_EQ [res + 4], 0xC90FDAA2, 8, "frstor pi"
        fstp tword [res]            ; 1
        CHECK_EQ [res + 4], 0x80000000, 8, "frstor 1"

; 9. FXSAVE image (SDM Vol. 1 Table 10-2) and FXRSTOR.
        fninit
        fld1
        fxsave [fxbuf]
        movzx eax, word [fxbuf]
        CHECK_EQ eax, 0x037F, 9, "fxsave FCW"
        movzx eax, byte [fxbuf + 4]
        CHECK_EQ eax, 0x80, 9, "fxsave abridged tag (R7)"
        CHECK_EQ [fxbuf + 24], 0x1F80, 9, "fxsave MXCSR"
        CHECK_EQ [fxbuf + 32 + 4], 0x80000000, 9, "fxsave ST0 significand"
        movzx eax, word [fxbuf + 32 + 8]
        CHECK_EQ eax, 0x3FFF, 9, "fxsave ST0 exponent"
        fninit
        fxrstor [fxbuf]
        fstp tword [res]
        CHECK_EQ [res + 4], 0x80000000, 9, "fxrstor ST0"

; 10. Unmasked ZE: 1/0 sets ZE, ES and B; FWAIT raises #MF. (The SDM also
; leaves the stack alone, §8.5.3, which gemu does; QEMU pops: TOP is not checked.)
        fninit
        fldcw [cw_ze]
        fld1
        fldz
        fdivp st1, st0
        fnstsw ax
        movzx eax, ax
        and eax, 0x80FF
        CHECK_EQ eax, 0x8000 | 0x80 | 0x04, 10, "unmasked ZE status"
        EXPECT 16, NOERR, .mf1, .mf1r, 10, "#MF on fwait"
.mf1:   fwait
.mf1r:  EXPECT_DONE
; 11. ... and on the next waiting x87 instruction.
        EXPECT 16, NOERR, .mf2, .mf2r, 11, "#MF on fnop"
.mf2:   fnop
.mf2r:  EXPECT_DONE
        fnclex
        fnop                        ; nothing pending now
        fninit

; 12. #NM: an x87 instruction with CR0.TS=1; WAIT with TS=1 and MP=1.
        mov eax, cr0
        or eax, CR0_TS
        mov cr0, eax
        EXPECT 7, NOERR, .nm1, .nm1r, 12, "#NM fld1 with CR0.TS=1"
.nm1:   fld1
.nm1r:  EXPECT_DONE
        fwait                       ; MP=0: no #NM
        mov eax, cr0
        or eax, CR0_MP
        mov cr0, eax
        EXPECT 7, NOERR, .nm2, .nm2r, 12, "#NM fwait with CR0.TS=MP=1"
.nm2:   fwait
.nm2r:  EXPECT_DONE
        clts
        mov eax, cr0
        and eax, ~CR0_MP
        mov cr0, eax

        OK "x87"
        xor eax, eax
        ret

        section .data
        align 8
m2_5:       dq -2.5
p2_5:       dq 2.5
v12345_5:   dq 12345.5
two:        dd 2
three:      dd 3
ten:        dd 10
cw_default: dw 0x037F
cw_pc24:    dw 0x007F
cw_ze:      dw 0x037B
cw_rc:      dw 0x037F, 0x077F, 0x0B7F, 0x0F7F

        section .bss
        alignb 16
fxbuf:      resb 512
fsbuf:      resb 108
        alignb 4
res:        resb 16
ints:       resd 8
        section .text

%include "end.inc"
