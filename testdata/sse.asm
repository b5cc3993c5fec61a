; sse.asm: MMX, SSE and SSE2 (SDM Vol. 1 chapters 9-11). Checks the
; enabling and fault conditions (CR4.OSFXSR, CR0.EM/TS, #GP for misaligned
; 16-byte operands), MMX on the x87 registers (tag word through FXSAVE, EMMS),
; then one check per instruction form: packed integer arithmetic, compares,
; shifts, shuffles, packs and unpacks, moves, and floating point with MXCSR
; rounding control, DAZ, FTZ and the exception flags. Expected values were
; computed independently and agree with QEMU (TCG) and with the silicon of
; the host (cpu/internal/ssehost).
; Verdict: 0 = all passed, else the number of the failing check (below).

%include "common.inc"
%include "idt.inc"
%include "expect.inc"

CR0_MP          equ 1 << 1
CR0_EM          equ 1 << 2
CR0_TS          equ 1 << 3
CR0_NE          equ 1 << 5
CR4_OSFXSR      equ 1 << 9
CR4_OSXMMEXCPT  equ 1 << 10

; CHECKX xmm, want, verdict, "name": compare the register's four dwords with want's.
%macro CHECKX 4
        movdqu [xres], %1
        CHECK_EQ [xres], [%2], %3, %4
        CHECK_EQ [xres + 4], [%2 + 4], %3, %4
        CHECK_EQ [xres + 8], [%2 + 8], %3, %4
        CHECK_EQ [xres + 12], [%2 + 12], %3, %4
%endmacro

; CHECKM mm, want, verdict, "name": the same for an MMX register.
%macro CHECKM 4
        movq [xres], %1
        CHECK_EQ [xres], [%2], %3, %4
        CHECK_EQ [xres + 4], [%2 + 4], %3, %4
%endmacro

main:
        call idt_init
        call expect_install

; 1. CPUID.1:EDX reports MMX (bit 23), SSE (25) and SSE2 (26).
        mov eax, 1
        cpuid
        and edx, (1 << 23) | (1 << 25) | (1 << 26)
        CHECK_EQ edx, (1 << 23) | (1 << 25) | (1 << 26), 1, "CPUID.1:EDX MMX SSE SSE2"

; 2. With CR4.OSFXSR = 0, SSE instructions raise #UD; MMX ones run
;    (SDM Vol. 3A §13.1.3, Table 13-1).
        mov eax, cr0
        and eax, ~(CR0_EM | CR0_TS)
        or eax, CR0_MP | CR0_NE
        mov cr0, eax
        mov eax, cr4
        and eax, ~(CR4_OSFXSR | CR4_OSXMMEXCPT)
        mov cr4, eax
        EXPECT 6, NOERR, .ud1, .ud1r, 2, "#UD addps with CR4.OSFXSR=0"
.ud1:   addps xmm0, xmm1
.ud1r:  EXPECT_DONE
        pxor mm0, mm0
        emms
        mov eax, cr4
        or eax, CR4_OSFXSR | CR4_OSXMMEXCPT
        mov cr4, eax

; 3. CR0.TS = 1: #NM for SSE and MMX (SDM Vol. 3A §2.5).
        mov eax, cr0
        or eax, CR0_TS
        mov cr0, eax
        EXPECT 7, NOERR, .nm1, .nm1r, 3, "#NM movaps with CR0.TS=1"
.nm1:   movaps xmm0, xmm1
.nm1r:  EXPECT_DONE
        EXPECT 7, NOERR, .nm2, .nm2r, 3, "#NM paddb mm with CR0.TS=1"
.nm2:   paddb mm0, mm1
.nm2r:  EXPECT_DONE
        clts

; 4. CR0.EM = 1: #UD for SSE and MMX.
        mov eax, cr0
        or eax, CR0_EM
        mov cr0, eax
        EXPECT 6, NOERR, .ud2, .ud2r, 4, "#UD addps with CR0.EM=1"
.ud2:   addps xmm0, xmm1
.ud2r:  EXPECT_DONE
        EXPECT 6, NOERR, .ud3, .ud3r, 4, "#UD paddb mm with CR0.EM=1"
.ud3:   paddb mm0, mm1
.ud3r:  EXPECT_DONE
        mov eax, cr0
        and eax, ~CR0_EM
        mov cr0, eax

; 5. #GP(0) for a misaligned 16-byte operand of MOVAPS; MOVUPS takes it.
        mov esi, xbuf + 4
        EXPECT 13, 0, .gp1, .gp1r, 5, "#GP(0) movaps from a misaligned address"
.gp1:   movaps xmm0, [esi]
.gp1r:  EXPECT_DONE
        EXPECT 13, 0, .gp2, .gp2r, 5, "#GP(0) paddd from a misaligned address"
.gp2:   paddd xmm0, [esi]
.gp2r:  EXPECT_DONE
        movups xmm0, [esi]

; 6-7. (Unmasked SIMD exceptions, #XM or #UD by CR4.OSXMMEXCPT, are
; checked by the Go unit tests only: QEMU 7.2's TCG does not raise #XM.)

; 8. MMX on the x87 registers: arithmetic, and the tag word as FXSAVE
;    shows it, all valid after an MMX instruction, all empty after EMMS
;    (SDM Vol. 1 §9.5.1, Table 9-2).
        fninit
        movq mm0, [mmx_a]
        paddw mm0, [mmx_b]
        CHECKM mm0, mmx_sum, 8, "paddw mm"
        pshufw mm1, mm0, 0x1B
        CHECKM mm1, mmx_shuf, 8, "pshufw"
        pmovmskb eax, mm0
        CHECK_EQ eax, 0xBC, 8, "pmovmskb mm"
        punpcklbw mm1, [mmx_a]
        CHECKM mm1, mmx_unpck, 8, "punpcklbw mm, m32"
        fxsave [fxarea]
        movzx eax, byte [fxarea + 4]
        CHECK_EQ eax, 0xFF, 8, "abridged FTW after MMX: all valid"
        movzx eax, word [fxarea + 2]
        and eax, 0x3800
        CHECK_EQ eax, 0, 8, "TOP after MMX"
        emms
        fxsave [fxarea]
        movzx eax, byte [fxarea + 4]
        CHECK_EQ eax, 0, 8, "abridged FTW after EMMS: all empty"

; 9. MASKMOVDQU stores the bytes whose mask byte has its top bit set, at DS:EDI.
        pxor xmm2, xmm2
        movdqu [xbuf], xmm2
        movdqa xmm0, [mask_data]
        movdqa xmm1, [mask_sel]
        mov edi, xbuf
        maskmovdqu xmm0, xmm1
        movdqu xmm2, [xbuf]
        CHECKX xmm2, mask_want, 9, "maskmovdqu"

; 10-120: one check per instruction form; the expected values are in the data below.

; 10. paddb
        movdqa xmm0, [d0]
        paddb xmm0, [d1]
        CHECKX xmm0, d2, 10, "paddb"
; 11. psubw
        movdqa xmm0, [d3]
        psubw xmm0, [d4]
        CHECKX xmm0, d5, 11, "psubw"
; 12. paddusb
        movdqa xmm0, [d6]
        paddusb xmm0, [d7]
        CHECKX xmm0, d8, 12, "paddusb"
; 13. psubusb
        movdqa xmm0, [d9]
        psubusb xmm0, [d10]
        CHECKX xmm0, d11, 13, "psubusb"
; 14. paddsw
        movdqa xmm0, [d12]
        paddsw xmm0, [d13]
        CHECKX xmm0, d14, 14, "paddsw"
; 15. psubsb
        movdqa xmm0, [d15]
        psubsb xmm0, [d16]
        CHECKX xmm0, d17, 15, "psubsb"
; 16. pcmpeqb
        movdqa xmm0, [d18]
        pcmpeqb xmm0, [d19]
        CHECKX xmm0, d20, 16, "pcmpeqb"
; 17. pcmpgtw
        movdqa xmm0, [d21]
        pcmpgtw xmm0, [d22]
        CHECKX xmm0, d23, 17, "pcmpgtw"
; 18. pminub
        movdqa xmm0, [d24]
        pminub xmm0, [d25]
        CHECKX xmm0, d26, 18, "pminub"
; 19. pmaxub
        movdqa xmm0, [d27]
        pmaxub xmm0, [d28]
        CHECKX xmm0, d29, 19, "pmaxub"
; 20. pminsw
        movdqa xmm0, [d30]
        pminsw xmm0, [d31]
        CHECKX xmm0, d32, 20, "pminsw"
; 21. pmullw
        movdqa xmm0, [d33]
        pmullw xmm0, [d34]
        CHECKX xmm0, d35, 21, "pmullw"
; 22. pmulhw
        movdqa xmm0, [d36]
        pmulhw xmm0, [d37]
        CHECKX xmm0, d38, 22, "pmulhw"
; 23. pmulhuw
        movdqa xmm0, [d39]
        pmulhuw xmm0, [d40]
        CHECKX xmm0, d41, 23, "pmulhuw"
; 24. pmuludq
        movdqa xmm0, [d42]
        pmuludq xmm0, [d43]
        CHECKX xmm0, d44, 24, "pmuludq"
; 25. pmaddwd
        movdqa xmm0, [d45]
        pmaddwd xmm0, [d46]
        CHECKX xmm0, d47, 25, "pmaddwd"
; 26. pavgb
        movdqa xmm0, [d48]
        pavgb xmm0, [d49]
        CHECKX xmm0, d50, 26, "pavgb"
; 27. psadbw
        movdqa xmm0, [d51]
        psadbw xmm0, [d52]
        CHECKX xmm0, d53, 27, "psadbw"
; 28. pandn
        movdqa xmm0, [d54]
        pandn xmm0, [d55]
        CHECKX xmm0, d56, 28, "pandn"
; 29. paddq
        movdqa xmm0, [d57]
        paddq xmm0, [d58]
        CHECKX xmm0, d59, 29, "paddq"
; 30. pmovmskb
        movdqa xmm0, [d60]
        pcmpeqb xmm0, [d61]
        pmovmskb eax, xmm0
        CHECK_EQ eax, 0x00004846, 30, "pmovmskb"
; 31. psllw imm
        movdqa xmm1, [d62]
        psllw xmm1, 3
        CHECKX xmm1, d63, 31, "psllw imm"
; 32. psrad imm
        movdqa xmm1, [d64]
        psrad xmm1, 7
        CHECKX xmm1, d65, 32, "psrad imm"
; 33. psraw imm 20
        movdqa xmm1, [d66]
        psraw xmm1, 20
        CHECKX xmm1, d67, 33, "psraw imm 20"
; 34. psrlq imm 63
        movdqa xmm1, [d68]
        psrlq xmm1, 63
        CHECKX xmm1, d69, 34, "psrlq imm 63"
; 35. pslldq 5
        movdqa xmm1, [d70]
        pslldq xmm1, 5
        CHECKX xmm1, d71, 35, "pslldq 5"
; 36. psrldq 3
        movdqa xmm1, [d72]
        psrldq xmm1, 3
        CHECKX xmm1, d73, 36, "psrldq 3"
; 37. psrlw by xmm count
        movdqa xmm1, [d74]
        psrlw xmm1, [d75]
        CHECKX xmm1, d76, 37, "psrlw by xmm count"
; 38. pslld by a huge count
        movdqa xmm1, [d77]
        pslld xmm1, [d78]
        CHECKX xmm1, d79, 38, "pslld by a huge count"
; 39. punpcklbw
        movdqa xmm0, [d80]
        punpcklbw xmm0, [d81]
        CHECKX xmm0, d82, 39, "punpcklbw"
; 40. punpckhwd
        movdqa xmm0, [d83]
        punpckhwd xmm0, [d84]
        CHECKX xmm0, d85, 40, "punpckhwd"
; 41. punpcklqdq
        movdqa xmm0, [d86]
        punpcklqdq xmm0, [d87]
        CHECKX xmm0, d88, 41, "punpcklqdq"
; 42. packsswb
        movdqa xmm0, [d89]
        packsswb xmm0, [d90]
        CHECKX xmm0, d91, 42, "packsswb"
; 43. packuswb
        movdqa xmm0, [d92]
        packuswb xmm0, [d93]
        CHECKX xmm0, d94, 43, "packuswb"
; 44. packssdw
        movdqa xmm0, [d95]
        packssdw xmm0, [d96]
        CHECKX xmm0, d97, 44, "packssdw"
; 45. pshufd 0x1B
        pshufd xmm0, [d98], 0x1B
        CHECKX xmm0, d99, 45, "pshufd 0x1B"
; 46. pshuflw 0x4E
        pshuflw xmm0, [d100], 0x4E
        CHECKX xmm0, d101, 46, "pshuflw 0x4E"
; 47. pshufhw 0x00
        pshufhw xmm0, [d102], 0x00
        CHECKX xmm0, d103, 47, "pshufhw 0x00"
; 48. shufps 0xB1
        movdqa xmm0, [d104]
        shufps xmm0, [d105], 0xB1
        CHECKX xmm0, d106, 48, "shufps 0xB1"
; 49. unpcklps
        movdqa xmm0, [d107]
        unpcklps xmm0, [d108]
        CHECKX xmm0, d109, 49, "unpcklps"
; 50. unpckhpd
        movdqa xmm0, [d110]
        unpckhpd xmm0, [d111]
        CHECKX xmm0, d112, 50, "unpckhpd"
; 51. movhlps
        movdqa xmm0, [d113]
        movhlps xmm0, xmm0
        CHECKX xmm0, d114, 51, "movhlps"
; 52. pinsrw
        movdqa xmm0, [d115]
        mov eax, 0x12345678
        pinsrw xmm0, eax, 5
        CHECKX xmm0, d116, 52, "pinsrw"
; 53. pextrw
        movdqa xmm0, [d117]
        pextrw eax, xmm0, 6
        CHECK_EQ eax, 0x00007F01, 53, "pextrw"
; 54. movmskps
        movdqa xmm0, [d118]
        movmskps eax, xmm0
        CHECK_EQ eax, 0x0000000A, 54, "movmskps"
; 55. movd zero-extends
        movdqa xmm0, [d119]
        movd xmm0, [d120]
        CHECKX xmm0, d121, 55, "movd zero-extends"
; 56. movq zero-extends
        movdqa xmm0, [d122]
        movq xmm0, [d123]
        CHECKX xmm0, d124, 56, "movq zero-extends"
; 57. movss load zero-extends
        movdqa xmm0, [d125]
        movss xmm0, [d126]
        CHECKX xmm0, d127, 57, "movss load zero-extends"
; 58. movss merges
        movdqa xmm0, [d128]
        movdqa xmm1, [d129]
        movss xmm0, xmm1
        CHECKX xmm0, d130, 58, "movss merges"
; 59. movsd merges
        movdqa xmm0, [d131]
        movdqa xmm1, [d132]
        movsd xmm0, xmm1
        CHECKX xmm0, d133, 59, "movsd merges"
; 60. movdqu unaligned round trip
        movdqu xmm0, [d134]
        movdqu [xbuf+3], xmm0
        pxor xmm1, xmm1
        movdqu xmm1, [xbuf+3]
        CHECKX xmm1, d135, 60, "movdqu unaligned round trip"
; 61. addps
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d136]
        addps xmm0, [d137]
        CHECKX xmm0, d138, 61, "addps"
; 62. addps sets PE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FA0, 62, "addps sets PE"
; 63. mulpd
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movapd xmm0, [d139]
        mulpd xmm0, [d140]
        CHECKX xmm0, d141, 63, "mulpd"
; 64. divps 1/3 -1/3 6/3 1/0, RC=0
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d142]
        divps xmm0, [d143]
        CHECKX xmm0, d144, 64, "divps 1/3 -1/3 6/3 1/0, RC=0"
; 65. divps flags PE ZE, RC=0
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FA4, 65, "divps flags PE ZE, RC=0"
; 66. divps 1/3 -1/3 6/3 1/0, RC=1
        mov dword [mx], 0x3F80
        ldmxcsr [mx]
        movaps xmm0, [d145]
        divps xmm0, [d146]
        CHECKX xmm0, d147, 66, "divps 1/3 -1/3 6/3 1/0, RC=1"
; 67. divps flags PE ZE, RC=1
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00003FA4, 67, "divps flags PE ZE, RC=1"
; 68. divps 1/3 -1/3 6/3 1/0, RC=2
        mov dword [mx], 0x5F80
        ldmxcsr [mx]
        movaps xmm0, [d148]
        divps xmm0, [d149]
        CHECKX xmm0, d150, 68, "divps 1/3 -1/3 6/3 1/0, RC=2"
; 69. divps flags PE ZE, RC=2
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00005FA4, 69, "divps flags PE ZE, RC=2"
; 70. divps 1/3 -1/3 6/3 1/0, RC=3
        mov dword [mx], 0x7F80
        ldmxcsr [mx]
        movaps xmm0, [d151]
        divps xmm0, [d152]
        CHECKX xmm0, d153, 70, "divps 1/3 -1/3 6/3 1/0, RC=3"
; 71. divps flags PE ZE, RC=3
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00007FA4, 71, "divps flags PE ZE, RC=3"
; 72. sqrtpd 2 -0
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movapd xmm0, [d154]
        sqrtpd xmm0, [d155]
        CHECKX xmm0, d156, 72, "sqrtpd 2 -0"
; 73. sqrtpd -1 0.25
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movapd xmm0, [d157]
        sqrtpd xmm0, [d158]
        CHECKX xmm0, d159, 73, "sqrtpd -1 0.25"
; 74. sqrt(-1) sets IE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001F81, 74, "sqrt(-1) sets IE"
; 75. subpd x-x = -0 rounding down
        mov dword [mx], 0x3F80
        ldmxcsr [mx]
        movapd xmm0, [d160]
        subpd xmm0, [d161]
        CHECKX xmm0, d162, 75, "subpd x-x = -0 rounding down"
; 76. subpd x-x = +0
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movapd xmm0, [d163]
        subpd xmm0, [d164]
        CHECKX xmm0, d165, 76, "subpd x-x = +0"
; 77. minps NaN and zero cases
        movaps xmm0, [d166]
        minps xmm0, [d167]
        CHECKX xmm0, d168, 77, "minps NaN and zero cases"
; 78. maxps
        movaps xmm0, [d169]
        maxps xmm0, [d170]
        CHECKX xmm0, d171, 78, "maxps"
; 79. cmpps predicate 1
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d172]
        cmpps xmm0, [d173], 1
        CHECKX xmm0, d174, 79, "cmpps predicate 1"
; 80. cmpps predicate 2
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d175]
        cmpps xmm0, [d176], 2
        CHECKX xmm0, d177, 80, "cmpps predicate 2"
; 81. cmpps predicate 3
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d178]
        cmpps xmm0, [d179], 3
        CHECKX xmm0, d180, 81, "cmpps predicate 3"
; 82. cmpps predicate 4
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d181]
        cmpps xmm0, [d182], 4
        CHECKX xmm0, d183, 82, "cmpps predicate 4"
; 83. cmpneqps: no IE for a QNaN
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001F80, 83, "cmpneqps: no IE for a QNaN"
; 84. cmpltps: IE for a QNaN
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d184]
        cmpltps xmm0, [d185]
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001F81, 84, "cmpltps: IE for a QNaN"
; 85. comisd less
        movsd xmm0, [d186]
        mov eax, 0x8D5
        push eax
        popfd
        comisd xmm0, [d187]
        pushfd
        pop eax
        and eax, 0x8D5
        CHECK_EQ eax, 0x00000001, 85, "comisd less"
; 86. comisd equal
        movsd xmm0, [d188]
        mov eax, 0x8D5
        push eax
        popfd
        comisd xmm0, [d189]
        pushfd
        pop eax
        and eax, 0x8D5
        CHECK_EQ eax, 0x00000040, 86, "comisd equal"
; 87. comisd greater
        movsd xmm0, [d190]
        mov eax, 0x8D5
        push eax
        popfd
        comisd xmm0, [d191]
        pushfd
        pop eax
        and eax, 0x8D5
        CHECK_EQ eax, 0x00000000, 87, "comisd greater"
; 88. comisd unordered
        movsd xmm0, [d192]
        mov eax, 0x8D5
        push eax
        popfd
        comisd xmm0, [d193]
        pushfd
        pop eax
        and eax, 0x8D5
        CHECK_EQ eax, 0x00000045, 88, "comisd unordered"
; 89. cvtsi2sd keeps the upper half
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movapd xmm0, [d194]
        mov eax, -7
        cvtsi2sd xmm0, eax
        CHECKX xmm0, d195, 89, "cvtsi2sd keeps the upper half"
; 90. cvtsd2si -2.5 RN
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtsd2si eax, [d196]
        CHECK_EQ eax, 0xFFFFFFFE, 90, "cvtsd2si -2.5 RN"
; 91. cvtsd2si 2.5 RN
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtsd2si eax, [d197]
        CHECK_EQ eax, 0x00000002, 91, "cvtsd2si 2.5 RN"
; 92. cvtsd2si 3.5 RN
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtsd2si eax, [d198]
        CHECK_EQ eax, 0x00000004, 92, "cvtsd2si 3.5 RN"
; 93. cvtsd2si 2.5 RD
        mov dword [mx], 0x3F80
        ldmxcsr [mx]
        cvtsd2si eax, [d199]
        CHECK_EQ eax, 0x00000002, 93, "cvtsd2si 2.5 RD"
; 94. cvtsd2si -2.5 RD
        mov dword [mx], 0x3F80
        ldmxcsr [mx]
        cvtsd2si eax, [d200]
        CHECK_EQ eax, 0xFFFFFFFD, 94, "cvtsd2si -2.5 RD"
; 95. cvtsd2si 2.1 RU
        mov dword [mx], 0x5F80
        ldmxcsr [mx]
        cvtsd2si eax, [d201]
        CHECK_EQ eax, 0x00000003, 95, "cvtsd2si 2.1 RU"
; 96. cvtsd2si 1e10
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtsd2si eax, [d202]
        CHECK_EQ eax, 0x80000000, 96, "cvtsd2si 1e10"
; 97. cvttsd2si -2.9
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvttsd2si eax, [d203]
        CHECK_EQ eax, 0xFFFFFFFE, 97, "cvttsd2si -2.9"
; 98. cvttss2si inf sets IE
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvttss2si eax, [d204]
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001F81, 98, "cvttss2si inf sets IE"
; 99. cvtdq2ps
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtdq2ps xmm0, [d205]
        CHECKX xmm0, d206, 99, "cvtdq2ps"
; 100. cvtdq2ps sets PE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FA0, 100, "cvtdq2ps sets PE"
; 101. cvtps2dq
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtps2dq xmm0, [d207]
        CHECKX xmm0, d208, 101, "cvtps2dq"
; 102. cvtps2dq sets IE PE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FA1, 102, "cvtps2dq sets IE PE"
; 103. cvttps2dq
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvttps2dq xmm0, [d209]
        CHECKX xmm0, d210, 103, "cvttps2dq"
; 104. cvtps2pd
        cvtps2pd xmm0, [d211]
        CHECKX xmm0, d212, 104, "cvtps2pd"
; 105. cvtpd2ps
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvtpd2ps xmm0, [d213]
        CHECKX xmm0, d214, 105, "cvtpd2ps"
; 106. cvtpd2ps overflow sets OE PE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FA8, 106, "cvtpd2ps overflow sets OE PE"
; 107. cvtdq2pd
        cvtdq2pd xmm0, [d215]
        CHECKX xmm0, d216, 107, "cvtdq2pd"
; 108. cvttpd2dq zeroes the upper half
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        cvttpd2dq xmm0, [d217]
        CHECKX xmm0, d218, 108, "cvttpd2dq zeroes the upper half"
; 109. mulss exact denormal
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d219]
        mulss xmm0, [d220]
        CHECKX xmm0, d221, 109, "mulss exact denormal"
; 110. mulss exact denormal: no UE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001F80, 110, "mulss exact denormal: no UE"
; 111. mulss flushed by FTZ
        mov dword [mx], 0x9F80
        ldmxcsr [mx]
        movaps xmm0, [d222]
        mulss xmm0, [d223]
        CHECKX xmm0, d224, 111, "mulss flushed by FTZ"
; 112. FTZ sets UE PE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00009FB0, 112, "FTZ sets UE PE"
; 113. addss denormal
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d225]
        addss xmm0, [d226]
        CHECKX xmm0, d227, 113, "addss denormal"
; 114. addss denormal under DAZ
        mov dword [mx], 0x1FC0
        ldmxcsr [mx]
        movaps xmm0, [d228]
        addss xmm0, [d229]
        CHECKX xmm0, d230, 114, "addss denormal under DAZ"
; 115. DAZ: no DE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FC0, 115, "DAZ: no DE"
; 116. mulss overflow
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d231]
        mulss xmm0, xmm0
        CHECKX xmm0, d232, 116, "mulss overflow"
; 117. overflow sets OE PE
        stmxcsr [mx]
        CHECK_EQ [mx], 0x00001FA8, 117, "overflow sets OE PE"
; 118. mulss overflow toward zero
        mov dword [mx], 0x7F80
        ldmxcsr [mx]
        movaps xmm0, [d233]
        mulss xmm0, xmm0
        CHECKX xmm0, d234, 118, "mulss overflow toward zero"
; 119. andnps (fabs)
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        movaps xmm0, [d235]
        andnps xmm0, [d236]
        CHECKX xmm0, d237, 119, "andnps (fabs)"
; 120. xorpd (negate)
        movapd xmm0, [d238]
        xorpd xmm0, [d239]
        CHECKX xmm0, d240, 120, "xorpd (negate)"
        mov dword [mx], 0x1F80
        ldmxcsr [mx]
        xor eax, eax
        ret

        section .data
        align 16
mmx_a:  dq 0x7FFF000180001234
mmx_b:  dq 0x0001FFFE7FFF0102
mmx_sum: dq 0x8000FFFFFFFF1336
mmx_shuf: dq 0x1336FFFFFFFF8000
mmx_unpck: dq 0x80FF00FF12803400
        align 16
mask_data: dq 0x0807060504030201, 0x100F0E0D0C0B0A09
mask_sel:  dq 0x8000800000FF8080, 0x7F80000000000080
mask_want: dq 0x0800060000030201, 0x000F000000000009
        align 16
d0: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d1: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d2: dq 0x001EFFFF8120C0A1, 0x81FEFF0004FFFD10
        align 16
d3: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d4: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d5: dq 0xE000AB558100FFFF, 0x7F00FE0200FDFEF0
        align 16
d6: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d7: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d8: dq 0xFF1EFFFF8120FFFF, 0x81FFFFFF04FFFD10
        align 16
d9: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d10: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d11: dq 0xE000005500000000, 0x7F00000000FD0000
        align 16
d12: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d13: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d14: dq 0x001EFFFF8120C1A1, 0x82FE000004FF7FFF
        align 16
d15: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d16: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d17: dq 0xE0007F807F0000FF, 0x80007F0200FDFFF0
        align 16
d18: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d19: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d20: dq 0x00FF000000FFFF00, 0x00FF0000FF000000
        align 16
d21: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d22: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d23: dq 0x0000FFFFFFFF0000, 0x0000FFFFFFFF0000
        align 16
d24: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d25: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d26: dq 0x100F55550110E0D0, 0x01FF7F0102017E00
        align 16
d27: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d28: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d29: dq 0xF00FAAAA8010E0D1, 0x80FF80FF02FE7F10
        align 16
d30: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d31: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d32: dq 0xF00FAA558010E0D0, 0x80FF80FF02017E00
        align 16
d33: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d34: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d35: dq 0x00E15572110089D0, 0x7D0101FFFEFEE000
        align 16
d36: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d37: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d38: dq 0xFF00E355FF7803CC, 0xFF02C0FE00053E89
        align 16
d39: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d40: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d41: dq 0x0F0F38FF0088C56D, 0x01013FFF00053E89
        align 16
d42: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d43: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d44: dq 0x00888265B07D89D0, 0x00060176EE69E000
        align 16
d45: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d46: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d47: dq 0xE255565303449AD0, 0xC0007F003E8FDEFE
        align 16
d48: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d49: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d50: dq 0x800F80804110E0D1, 0x41FF808002807F08
        align 16
d51: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d52: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d53: dq 0x000000000000020A, 0x000000000000028C
        align 16
d54: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d55: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d56: dq 0x0000AA5580000001, 0x010080FE00010110
        align 16
d57: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d58: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d59: dq 0x001EFFFF8121C1A1, 0x82FF000004FFFD10
        align 16
d60: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d61: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d62: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d63: dq 0x8078AD5008800680, 0x07F8F80817F0F000
        align 16
d64: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d65: dq 0xFFE01EAB000221C1, 0xFF01FEFE0005FCFC
        align 16
d66: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d67: dq 0xFFFF00000000FFFF, 0xFFFF000000000000
        align 16
d68: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d69: dq 0x0000000000000001, 0x0000000000000001
        align 16
d70: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d71: dq 0x10E0D00000000000, 0xFE7E00F00F55AA01
        align 16
d72: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d73: dq 0xFE7E00F00F55AA01, 0x00000080FF7F0102
        align 16
d74: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d75: dq 0x0000000000000009, 0x0000000000000000
        align 16
d76: dq 0x0078002A00000070, 0x0040003F0001003F
        align 16
d77: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d78: dq 0x0000000100000001, 0x0000000000000000
        align 16
d79: dq 0x0000000000000000, 0x0000000000000000
        align 16
d80: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d81: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d82: dq 0x80011010E0E0D1D0, 0x10F00F0FAA5555AA
        align 16
d83: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d84: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d85: dq 0x020102FE7F107E00, 0x01FF80FF80FF7F01
        align 16
d86: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d87: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d88: dq 0xF00F55AA0110E0D0, 0x100FAA558010E0D1
        align 16
d89: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d90: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d91: dq 0x807F7F7F807F7F80, 0x7F807F7F7F808080
        align 16
d92: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d93: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d94: dq 0x00FFFFFF00FFFF00, 0xFF00FFFFFF000000
        align 16
d95: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d96: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d97: dq 0x80007FFF80007FFF, 0x7FFF7FFF7FFF8000
        align 16
d98: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d99: dq 0x02FE7E0080FF7F01, 0x0110E0D0F00F55AA
        align 16
d100: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d101: dq 0x0110E0D0F00F55AA, 0x80FF7F0102FE7E00
        align 16
d102: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d103: dq 0xF00F55AA0110E0D0, 0x7E007E007E007E00
        align 16
d104: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d105: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d106: dq 0x0110E0D0F00F55AA, 0x02017F1001FF80FF
        align 16
d107: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d108: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d109: dq 0x8010E0D10110E0D0, 0x100FAA55F00F55AA
        align 16
d110: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d111: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d112: dq 0x80FF7F0102FE7E00, 0x01FF80FF02017F10
        align 16
d113: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d114: dq 0x80FF7F0102FE7E00, 0x80FF7F0102FE7E00
        align 16
d115: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d116: dq 0xF00F55AA0110E0D0, 0x80FF7F0156787E00
        align 16
d117: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d118: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d119: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d120: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d121: dq 0x000000008010E0D1, 0x0000000000000000
        align 16
d122: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d123: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d124: dq 0x100FAA558010E0D1, 0x0000000000000000
        align 16
d125: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d126: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d127: dq 0x000000008010E0D1, 0x0000000000000000
        align 16
d128: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d129: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d130: dq 0xF00F55AA8010E0D1, 0x80FF7F0102FE7E00
        align 16
d131: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d132: dq 0x100FAA558010E0D1, 0x01FF80FF02017F10
        align 16
d133: dq 0x100FAA558010E0D1, 0x80FF7F0102FE7E00
        align 16
d134: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d135: dq 0xF00F55AA0110E0D0, 0x80FF7F0102FE7E00
        align 16
d136: dq 0x401000003FC00000, 0x501502F9C0400000
        align 16
d137: dq 0x3F4000003E800000, 0x3F80000040400000
        align 16
d138: dq 0x404000003FE00000, 0x501502F900000000
        align 16
d139: dq 0x3FF199999999999A, 0xC000000000000000
        align 16
d140: dq 0x4008000000000000, 0x3FE0000000000000
        align 16
d141: dq 0x400A666666666667, 0xBFF0000000000000
        align 16
d142: dq 0xBF8000003F800000, 0x3F80000040C00000
        align 16
d143: dq 0x4040000040400000, 0x0000000040400000
        align 16
d144: dq 0xBEAAAAAB3EAAAAAB, 0x7F80000040000000
        align 16
d145: dq 0xBF8000003F800000, 0x3F80000040C00000
        align 16
d146: dq 0x4040000040400000, 0x0000000040400000
        align 16
d147: dq 0xBEAAAAAB3EAAAAAA, 0x7F80000040000000
        align 16
d148: dq 0xBF8000003F800000, 0x3F80000040C00000
        align 16
d149: dq 0x4040000040400000, 0x0000000040400000
        align 16
d150: dq 0xBEAAAAAA3EAAAAAB, 0x7F80000040000000
        align 16
d151: dq 0xBF8000003F800000, 0x3F80000040C00000
        align 16
d152: dq 0x4040000040400000, 0x0000000040400000
        align 16
d153: dq 0xBEAAAAAA3EAAAAAA, 0x7F80000040000000
        align 16
d154: dq 0x0000000000000000, 0x0000000000000000
        align 16
d155: dq 0x4000000000000000, 0x8000000000000000
        align 16
d156: dq 0x3FF6A09E667F3BCD, 0x8000000000000000
        align 16
d157: dq 0x0000000000000000, 0x0000000000000000
        align 16
d158: dq 0xBFF0000000000000, 0x3FD0000000000000
        align 16
d159: dq 0xFFF8000000000000, 0x3FE0000000000000
        align 16
d160: dq 0x3FB999999999999A, 0x4014000000000000
        align 16
d161: dq 0x3FB999999999999A, 0x4014000000000000
        align 16
d162: dq 0x8000000000000000, 0x8000000000000000
        align 16
d163: dq 0x3FB999999999999A, 0x4014000000000000
        align 16
d164: dq 0x3FB999999999999A, 0x4014000000000000
        align 16
d165: dq 0x0000000000000000, 0x0000000000000000
        align 16
d166: dq 0x7FC000003F800000, 0x4040000080000000
        align 16
d167: dq 0x400000007FC00001, 0xC0A0000000000000
        align 16
d168: dq 0x400000007FC00001, 0xC0A0000000000000
        align 16
d169: dq 0x40E000003F800000, 0x00000000C0000000
        align 16
d170: dq 0x4040000040000000, 0x80000000BF800000
        align 16
d171: dq 0x40E0000040000000, 0x80000000BF800000
        align 16
d172: dq 0x7FC000003F800000, 0x8000000040400000
        align 16
d173: dq 0x3F80000040000000, 0x0000000040400000
        align 16
d174: dq 0x00000000FFFFFFFF, 0x0000000000000000
        align 16
d175: dq 0x7FC000003F800000, 0x8000000040400000
        align 16
d176: dq 0x3F80000040000000, 0x0000000040400000
        align 16
d177: dq 0x00000000FFFFFFFF, 0xFFFFFFFFFFFFFFFF
        align 16
d178: dq 0x7FC000003F800000, 0x8000000040400000
        align 16
d179: dq 0x3F80000040000000, 0x0000000040400000
        align 16
d180: dq 0xFFFFFFFF00000000, 0x0000000000000000
        align 16
d181: dq 0x7FC000003F800000, 0x8000000040400000
        align 16
d182: dq 0x3F80000040000000, 0x0000000040400000
        align 16
d183: dq 0xFFFFFFFFFFFFFFFF, 0x0000000000000000
        align 16
d184: dq 0x7FC000003F800000, 0x8000000040400000
        align 16
d185: dq 0x3F80000040000000, 0x0000000040400000
        align 16
d186: dq 0x3FF0000000000000, 0x0000000000000000
        align 16
d187: dq 0x4000000000000000, 0x0000000000000000
        align 16
d188: dq 0x4000000000000000, 0x0000000000000000
        align 16
d189: dq 0x4000000000000000, 0x0000000000000000
        align 16
d190: dq 0x4008000000000000, 0x0000000000000000
        align 16
d191: dq 0x4000000000000000, 0x0000000000000000
        align 16
d192: dq 0x7FF8000000000000, 0x0000000000000000
        align 16
d193: dq 0x4000000000000000, 0x0000000000000000
        align 16
d194: dq 0x3FF0000000000000, 0x4000000000000000
        align 16
d195: dq 0xC01C000000000000, 0x4000000000000000
        align 16
d196: dq 0xC004000000000000, 0x0000000000000000
        align 16
d197: dq 0x4004000000000000, 0x0000000000000000
        align 16
d198: dq 0x400C000000000000, 0x0000000000000000
        align 16
d199: dq 0x4004000000000000, 0x0000000000000000
        align 16
d200: dq 0xC004000000000000, 0x0000000000000000
        align 16
d201: dq 0x4000CCCCCCCCCCCD, 0x0000000000000000
        align 16
d202: dq 0x4202A05F20000000, 0x0000000000000000
        align 16
d203: dq 0xC007333333333333, 0x0000000000000000
        align 16
d204: dq 0x000000007F800000, 0x0000000000000000
        align 16
d205: dq 0xFFFFFFFE00000001, 0x7FFFFFFF01000001
        align 16
d206: dq 0xC00000003F800000, 0x4F0000004B800000
        align 16
d207: dq 0xBFC000003FC00000, 0x501502F940200000
        align 16
d208: dq 0xFFFFFFFE00000002, 0x8000000000000002
        align 16
d209: dq 0xBFC000003FC00000, 0xC0FFAE1440200000
        align 16
d210: dq 0xFFFFFFFF00000001, 0xFFFFFFF900000002
        align 16
d211: dq 0xC04000003DCCCCCD, 0x0000000000000000
        align 16
d212: dq 0x3FB99999A0000000, 0xC008000000000000
        align 16
d213: dq 0x3FB999999999999A, 0x7E37E43C8800759C
        align 16
d214: dq 0x7F8000003DCCCCCD, 0x0000000000000000
        align 16
d215: dq 0x7FFFFFFFFFFFFFFB, 0x0000000000000000
        align 16
d216: dq 0xC014000000000000, 0x41DFFFFFFFC00000
        align 16
d217: dq 0xBFFE666666666666, 0x401F99999999999A
        align 16
d218: dq 0x00000007FFFFFFFF, 0x0000000000000000
        align 16
d219: dq 0x000000000D800000, 0x0000000000000000
        align 16
d220: dq 0x0000000030800000, 0x0000000000000000
        align 16
d221: dq 0x0000000000080000, 0x0000000000000000
        align 16
d222: dq 0x000000000D800000, 0x0000000000000000
        align 16
d223: dq 0x0000000030800000, 0x0000000000000000
        align 16
d224: dq 0x0000000000000000, 0x0000000000000000
        align 16
d225: dq 0x0000000000000000, 0x0000000000000000
        align 16
d226: dq 0x0000000000000001, 0x0000000000000000
        align 16
d227: dq 0x0000000000000001, 0x0000000000000000
        align 16
d228: dq 0x0000000000000000, 0x0000000000000000
        align 16
d229: dq 0x0000000000000001, 0x0000000000000000
        align 16
d230: dq 0x0000000000000000, 0x0000000000000000
        align 16
d231: dq 0x0000000071800000, 0x0000000000000000
        align 16
d232: dq 0x000000007F800000, 0x0000000000000000
        align 16
d233: dq 0x0000000071800000, 0x0000000000000000
        align 16
d234: dq 0x000000007F7FFFFF, 0x0000000000000000
        align 16
d235: dq 0x8000000080000000, 0x8000000080000000
        align 16
d236: dq 0x40000000BF800000, 0x40800000C0400000
        align 16
d237: dq 0x400000003F800000, 0x4080000040400000
        align 16
d238: dq 0x8000000000000000, 0x8000000000000000
        align 16
d239: dq 0xBFF0000000000000, 0x4000000000000000
        align 16
d240: dq 0x3FF0000000000000, 0xC000000000000000

        section .bss
        alignb 16
xres:   resb 16
xbuf:   resb 48
fxarea: resb 512
mx:     resd 1

%include "end.inc"
