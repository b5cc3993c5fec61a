; exceptions.asm: raise each exception on purpose and check what the CPU
; pushed: the vector, the error code, and the saved EIP, which points at the
; faulting instruction for a fault and after the instruction for a trap
; (SDM Vol. 3A §6.5 "Exception classifications", §6.15 for each vector).
; The hook (expect.inc) then resumes past the instruction.
; Verdict: 0 = all passed, else the number of the failing check (below).

%macro GDT_EXTRA 0
        dq 0x00CF12000000FFFF       ; 0x18 data segment, read/write, NOT present (P=0)
        dq 0x0000890000000067       ; 0x20 32-bit TSS, available, limit 103; base set at run time
%endmacro
SEL_NP_DATA     equ 0x18
SEL_TSS         equ 0x20
SEL_BEYOND      equ 0x0100          ; index 32: past the GDT limit
SEL_LDT_LINK    equ 0x0004          ; TI=1: an LDT selector, never valid as a TSS link

%include "common.inc"
%include "idt.inc"
%include "expect.inc"
%include "paging.inc"

main:
        call idt_init
        call expect_install

; 1. #DE, DIV by zero: fault, no error code (§6.15 "Interrupt 0").
        EXPECT 0, NOERR, .de1, .de1r, 1, "#DE div by zero"
        mov eax, 1234
        xor edx, edx
        xor ecx, ecx
.de1:   div ecx
.de1r:  EXPECT_DONE
        CHECK_EQ eax, 1234, 1, "#DE leaves EAX alone"

; 2. #DE, IDIV overflow: 0x80000000 / -1 does not fit (SDM Vol. 2A IDIV).
        EXPECT 0, NOERR, .de2, .de2r, 2, "#DE idiv overflow"
        mov eax, 0x80000000
        mov edx, 0xFFFFFFFF
        mov ecx, -1
.de2:   idiv ecx
.de2r:  EXPECT_DONE
; 2b. 8-bit: AX = -32768 / -1.
        EXPECT 0, NOERR, .de3, .de3r, 2, "#DE idiv r8 overflow"
        mov ax, 0x8000
        mov bl, -1
.de3:   idiv bl
.de3r:  EXPECT_DONE
; 2c. AAM 0 divides by zero (SDM Vol. 2A AAM).
        EXPECT 0, NOERR, .de4, .de4r, 2, "#DE aam 0"
        mov ax, 0x1234
.de4:   aam 0
.de4r:  EXPECT_DONE

; 3. #UD from UD2: fault (§6.15 "Interrupt 6").
        EXPECT 6, NOERR, .ud, .udr, 3, "#UD ud2"
.ud:    ud2
.udr:   EXPECT_DONE

; 4. #BP from INT3: a trap, saved EIP after the 1-byte CC (§6.15 "Interrupt 3").
        EXPECT 3, NOERR, .bpr, .bpr, 4, "#BP int3 (trap)"
        int3
.bpr:   EXPECT_DONE

; 5. #OF from INTO with OF=1: a trap (§6.15 "Interrupt 4"); with OF=0 nothing.
        mov al, 0x7F
        add al, 1                   ; OF=0 -> OF=1: 127+1 overflows
        EXPECT 4, NOERR, .ofr, .ofr, 5, "#OF into (trap)"
        into
.ofr:   EXPECT_DONE
        mov dword [exp_vec], -1     ; any exception now is a failure
        mov dword [exp_verdict], 5
        xor al, al                  ; OF=0
        into                        ; no exception
        CHECK_EQ [exp_hits], 1, 5, "into with OF=0 does not trap"

; 6. #BR from BOUND out of range: fault (§6.15 "Interrupt 5").
        mov eax, 15
        bound eax, [bounds]         ; 10 <= 15 <= 20: no exception
        EXPECT 5, NOERR, .br, .brr, 6, "#BR bound"
        mov eax, 21
.br:    bound eax, [bounds]
.brr:   EXPECT_DONE

; 7. #GP(0) from loading SS with a null selector (SDM Vol. 2B MOV: "If
; attempt is made to load SS register with NULL segment selector").
        EXPECT 13, 0, .gp1, .gp1r, 7, "#GP mov ss, null"
        xor eax, eax
.gp1:   mov ss, ax
.gp1r:  EXPECT_DONE
        mov eax, ss
        CHECK_EQ eax, SEL_DATA0, 7, "SS unchanged after #GP"

; 8. #GP(selector) from a selector past the GDT limit (§6.13: error code =
; the selector's index, TI and EXT bits).
        EXPECT 13, SEL_BEYOND, .gp2, .gp2r, 8, "#GP selector beyond GDT limit"
        mov ax, SEL_BEYOND
.gp2:   mov ds, ax
.gp2r:  EXPECT_DONE

; 9. #NP(selector) from loading DS with a not-present segment (§6.15 "Interrupt 11").
        EXPECT 11, SEL_NP_DATA, .np, .npr, 9, "#NP data segment not present"
        mov ax, SEL_NP_DATA
.np:    mov ds, ax
.npr:   EXPECT_DONE
        mov eax, ds
        CHECK_EQ eax, SEL_DATA0, 9, "DS unchanged after #NP"

; 10. #SS(selector): loading SS with a not-present segment gives #SS, not #NP
; (§6.15 "Interrupt 12", SDM Vol. 2B MOV).
        EXPECT 12, SEL_NP_DATA, .ss, .ssr, 10, "#SS stack segment not present"
        mov ax, SEL_NP_DATA
.ss:    mov ss, ax
.ssr:   EXPECT_DONE

; 11. #TS(selector): IRET with EFLAGS.NT=1 is a task return through the
; current TSS's link field; a link with TI=1 (LDT) gives #TS(link)
; (SDM Vol. 2A IRET, TASK-RETURN; §7.3). A link past the GDT limit would also
; be #TS by the SDM, but QEMU 7.2 gives #GP there, so the LDT link is used.
        mov eax, tss
        mov edi, gdt + SEL_TSS
        call set_desc_base
        mov ax, SEL_TSS
        ltr ax
        mov word [tss + 0], SEL_LDT_LINK
        EXPECT 10, SEL_LDT_LINK, .ts, .tsr, 11, "#TS iret to an LDT task link"
        pushfd
        or dword [esp], EFL_NT
        popfd
.ts:    iretd
.tsr:   EXPECT_DONE
        pushfd
        pop eax
        and eax, EFL_NT
        CHECK_EQ eax, 0, 11, "NT clear after #TS recovery"

; 12. #DB single step: with TF=1 the trap comes after one instruction; POPF
; that sets TF does not trap itself (§17.3.1.4). DR6.BS (bit 14) is set.
        xor eax, eax
        mov dr6, eax
        xor ecx, ecx
        EXPECT 1, NOERR, .dbr, .dbr, 12, "#DB single step (trap)"
        pushfd
        or dword [esp], EFL_TF
        popfd
        inc ecx                     ; the single stepped instruction
.dbr:   EXPECT_DONE
        CHECK_EQ ecx, 1, 12, "single-stepped instruction ran once"
        mov eax, dr6
        and eax, 1 << 14
        CHECK_EQ eax, 1 << 14, 12, "DR6.BS after single step"

; 13. #PF with paging on: not-present read and write. CR2 = the linear
; address; error code bit 0 P=0 (not present), bit 1 W/R, bit 2 U/S=0
; (§4.7, §6.15 "Interrupt 14").
        call paging_setup
        call paging_enable
        EXPECT 14, 0, .pf1, .pf1r, 13, "#PF not-present read"
        mov esi, 0x80000010
.pf1:   mov eax, [esi]
.pf1r:  EXPECT_DONE
        CHECK_EQ [exp_cr2], 0x80000010, 13, "#PF read CR2"
        EXPECT 14, 2, .pf2, .pf2r, 14, "#PF not-present write"
        mov edi, 0x80400ffc
.pf2:   mov dword [edi], 1
.pf2r:  EXPECT_DONE
        CHECK_EQ [exp_cr2], 0x80400ffc, 14, "#PF write CR2"

; 15. #NM: an x87 instruction with CR0.TS=1 (§6.15 "Interrupt 7", §2.5 CR0.TS).
        mov eax, cr0
        or eax, 1 << 3
        mov cr0, eax
        EXPECT 7, NOERR, .nm, .nmr, 15, "#NM fnop with CR0.TS=1"
.nm:    fnop
.nmr:   EXPECT_DONE
        clts
        fnop                        ; no exception now
        OK "all exceptions"
        xor eax, eax
        ret

; set_desc_base: EDI = descriptor, EAX = base. Writes bits 16-39 and 56-63.
set_desc_base:
        mov [edi + 2], ax
        shr eax, 16
        mov [edi + 4], al
        mov [edi + 7], ah
        ret

        section .data
        align 4
bounds: dd 10, 20

        section .bss
        alignb 16
tss:    resb 104
        section .text

%include "end.inc"
