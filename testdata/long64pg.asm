; long64pg.asm: 4-level paging and 64-bit exception delivery (SDM Vol. 3A
; §5.5 "4-Level Paging and 5-Level Paging", §5.6 access rights, §5.7
; page-fault exceptions, §5.8 accessed and dirty flags, §5.10 TLBs; §7.14
; "Exception and Interrupt Handling in 64-bit Mode"; §8.7 the 64-bit TSS).
; Checks:
;   1. 4 KiB pages through a second PML4 entry (VA 0x80_0000_0000): an alias
;      of a physical page, written through one address and read through the
;      other; the upper half (PML4[511], VA FFFF_FF80_0000_0000) aliasing
;      the identity map
;   2. a 2 MiB page (PDE.PS=1) and its alias
;   3. a 1 GiB page (PDPTE.PS=1), if CPUID.80000001H:EDX.Page1GB[26]
;   4. accessed/dirty: A set in the PML4E, PDPTE, PDE and PTE by a read, D
;      set by a write in the leaf only (PTE; PDE of a 2 MiB page; PDPTE of a
;      1 GiB page), never in the entries above it
;   5. NX (EFER.NXE=1, bit 63, if CPUID.80000001H:EDX.NX[20]): a fetch from
;      an XD page, or under an XD PDE, gives #PF with I/D (error 11h), CR2 =
;      saved RIP = the address; cleared XD runs; a not-present fetch gives
;      10h; bit 63 with NXE=0 is a reserved bit (error 09h)
;   6. R/W with CR0.WP: supervisor writes to read-only pages (R/W=0 in the
;      PTE, or in the PDE only, or a user read-only page) succeed with WP=0
;      and give #PF 03h with WP=1
;   7. U/S from ring 3 (IRETQ to a 64-bit DPL-3 segment): user pages work;
;      #PF 07h (write to user read-only), 05h (supervisor PTE; U=0 in the PDE
;      only; the upper half, U=0 in the PML4E), 04h/06h (not present), 15h
;      (fetch from a user XD page)
;   8. reserved bits: an address bit at or above MAXPHYADDR in a PTE gives
;      #PF 09h on a read and 0Bh on a write; PS=1 in a PML4E gives 09h
;   9. TLB: after a CR3 reload a changed non-global PTE is re-walked; after
;      INVLPG the new mapping is used; with CR4.PGE a global PTE may or may
;      not survive a CR3 reload (printed, not checked), INVLPG and toggling
;      CR4.PGE both drop it (§5.10.4.1)
;  10. IST and IRETQ: #PF through a gate with IST=1 pushes its frame at the
;      top of the IST1 stack (saved RSP, SS = the interrupted ones, RSP back
;      after IRETQ); #DF (a #DE whose gate is not present -> #NP, two
;      contributory faults, §7.15 "Interrupt 8") on IST2 with error code 0;
;      without IST the frame goes at RSP aligned down to 16 (§7.14.2)
; CPU: -cpu qemu64 runs all but the 1 GiB page; -cpu max (or qemu64,+pdpe1gb) all.
; Verdict: 0 = all passed, else the number of the failing group above
; (0x7E: the image does not fit below 2 MiB, where the test expects it).

%include "long.inc"

VA_T            equ 0x0000008000000000     ; PML4[1] -> pdpt_t -> pd_t
VA_2M           equ VA_T + 0x200000        ; pd_t[1]: 2 MiB page -> PA_2M
VA_T2           equ VA_T + 0x400000        ; pd_t[2] -> pt_t2, the PDE has U=0, R/W=0
VA_1G           equ VA_T + 0x40000000      ; pdpt_t[1]: 1 GiB page -> physical 0
VA_HI           equ 0xFFFFFF8000000000     ; PML4[511] -> pdpt_low: identity map again
VA_RSVD_PML4    equ 0x0000010000000000     ; PML4[2]: PS=1, a reserved bit there
PA_2M           equ 0x600000
%define VA_PG(n) (VA_T + (n) * 4096)
; pt_t slots:
;  0 pg_a RW (alias, A/D)        1 pg_ro read-only          2 pg_code (NX tests)
;  3 not present                 4 pg_x/pg_y non-global     5 pg_x/pg_y global
;  6 pg_user user RW             7 pg_user_ro user RO       8 pg_super supervisor
;  9 reserved address bit       10 pg_code user, XD
; pt_t2 (under a PDE with U=0, R/W=0): 0 pg_code2, 1 pg_t2data (PTE U=1 R/W=1)
PG_ERR_P        equ 1 << 0          ; #PF error code bits (§5.7, figure 5-12)
PRW             equ PG_P | PG_RW
PRWU            equ PG_P | PG_RW | PG_US
VEC_TO_KERNEL   equ 0x81            ; DPL-3 gate: ring 3 hands back to ring 0
USER_RFLAGS     equ RFL_IOPL3 | 2   ; IOPL 3: ring 3 may print and exit

; RSVD_ERR want, verdict: check the last #PF error code against `want`
; (P=1, RSVD=1, ...). SDM §5.7: P is 0 only when a P flag in the walk was 0,
; so a reserved-bit fault has P=1, as silicon reports (e.g. Linux oopses
; "error_code(0x000b) - reserved bit violation"). QEMU 7.2 reports P=0 there:
; accepted with a note unless built with -DSTRICT_SDM.
%macro RSVD_ERR 2
        push rax
        mov eax, %1
        mov cl, %2
        call rsvd_err
        pop rax
%endmacro

        bits 32
main:   jmp long_enter

        bits 64
main64:
        call lexpect_install
        LSET_IST 8, 2
        LSET_HOOK VEC_TO_KERNEL, to_kernel_hook
        LSET_GATE_TYPE VEC_TO_KERNEL, GATE64_INT3
        mov rax, _bss_end
        cmp rax, 0x200000
        jb .fits
        LFAIL 0x7E, "image and bss must end below 2 MiB (user-mapped 2 MiB page)"
.fits:
        ; Ring 3 runs in the first 2 MiB page of the identity map.
        or qword [pml4], PG_US
        or qword [pdpt_low], PG_US
        or qword [pd_low], PG_US
        ; The test tree (§5.5.4, figure 5-8): PML4[1] -> pdpt_t -> pd_t -> pt_t.
        mov qword [pml4 + 1*8], pdpt_t + PRWU
        mov qword [pdpt_t + 0*8], pd_t + PRWU
        mov qword [pd_t + 0*8], pt_t + PRWU
        mov qword [pd_t + 1*8], PA_2M + (PRW | PG_PS)
        mov qword [pd_t + 2*8], pt_t2 + PG_P            ; U=0, R/W=0
        mov qword [pt_t + 0*8], pg_a + PRW
        mov qword [pt_t + 1*8], pg_ro + PG_P
        mov qword [pt_t + 4*8], pg_x + PRW
        mov qword [pt_t + 6*8], pg_user + PRWU
        mov qword [pt_t + 7*8], pg_user_ro + (PG_P | PG_US)
        mov qword [pt_t + 8*8], pg_super + PRW
        mov qword [pt_t2 + 0*8], pg_code2 + PG_P
        mov qword [pt_t2 + 1*8], pg_t2data + PRWU
        mov qword [pml4 + 511*8], pdpt_low + PRW        ; supervisor only
        mov rax, cr3
        mov cr3, rax
        mov dword [pg_x], 0x11111111
        mov dword [pg_y], 0x22222222
        ; the code stub the NX tests run: mov eax, 600Dh; ret
        mov dword [pg_code], 0x00600DB8
        mov word [pg_code + 4], 0xC300
        mov dword [pg_code2], 0x00600DB8
        mov word [pg_code2 + 4], 0xC300

        call test_4k
        call test_2m
        call test_1g
        call test_ad
        call test_nx
        call test_wp
        call test_user
        call test_rsvd
        call test_tlb
        call test_ist
        LOK "long64pg: all groups"
        xor eax, eax
        jmp lexit_verdict

; ------------------------------------------------------------- 1. 4 KiB pages
test_4k:
        mov rsi, VA_PG(0)
        mov dword [rsi + 0x10], 0x12345678
        LCHECK [pg_a + 0x10], 0x12345678, 1, "write through VA_T, read the identity map"
        mov rax, 0x0BADF00D0BADF00D
        mov [pg_a + 0xFF8], rax
        LCHECK [rsi + 0xFF8], 0x0BADF00D0BADF00D, 1, "write identity, read through VA_T (end of page)"
        ; The upper half: bits 63:48 are copies of bit 47 (§5.5, canonical).
        mov rsi, VA_HI + pg_a
        LCHECK [rsi + 0x10], 0x12345678, 1, "read through the upper-half alias"
        mov dword [rsi + 0x20], 0xFEEDFACE
        LCHECK [pg_a + 0x20], 0xFEEDFACE, 1, "write through the upper-half alias"
        LOK "1 4 KiB pages: aliases in the lower and the upper half"
        ret

; -------------------------------------------------------------- 2. 2 MiB page
; A PDE with PS=1 maps a 2 MiB page (§5.5.4, table 5-18).
test_2m:
        mov rsi, VA_2M
        mov rax, 0x2222333344445555
        mov [rsi + 0x1234], rax
        LCHECK [PA_2M + 0x1234], 0x2222333344445555, 2, "2 MiB page: write via VA, read PA"
        mov rax, 0x600DCAFE600DCAFE
        mov [PA_2M + 0x1FFFF8], rax
        LCHECK [rsi + 0x1FFFF8], 0x600DCAFE600DCAFE, 2, "2 MiB page: last qword"
        LOK "2 2 MiB page"
        ret

; -------------------------------------------------------------- 3. 1 GiB page
; A PDPTE with PS=1 maps a 1 GiB page (table 5-16) if CPUID.80000001H:EDX[26].
test_1g:
        mov eax, 0x80000001
        cpuid
        bt edx, 26
        jc .has
        LPRINTLN "skip 1 GiB pages: CPUID.80000001H:EDX.Page1GB=0"
        ret
.has:   mov byte [has_1g], 1
        mov qword [pdpt_t + 1*8], 0 + (PRW | PG_PS)
        mov rax, cr3
        mov cr3, rax
        mov rsi, VA_1G + pg_a
        LCHECK [rsi + 0x10], 0x12345678, 3, "1 GiB page: read via VA"
        mov rax, 0x1616161616161616
        mov [rsi + 0x30], rax
        LCHECK [pg_a + 0x30], 0x1616161616161616, 3, "1 GiB page: write via VA"
        mov rsi, VA_1G + PA_2M
        LCHECK [rsi + 0x1234], 0x2222333344445555, 3, "1 GiB page: another 2 MiB inside it"
        LOK "3 1 GiB page"
        ret

; ----------------------------------------------------------- 4. A and D bits
; §5.8: the processor sets A in every paging-structure entry it uses, D in
; the entry that maps the page (the leaf) on a write; bit 6 of a non-leaf
; entry is ignored and stays 0.
test_ad:
        and qword [pml4 + 1*8], ~(PG_A | PG_D)
        and qword [pdpt_t], ~(PG_A | PG_D)
        and qword [pd_t], ~(PG_A | PG_D)
        and qword [pt_t], ~(PG_A | PG_D)
        mov rax, cr3                ; flush TLBs and paging-structure caches
        mov cr3, rax
        mov rsi, VA_PG(0)
        mov rax, [rsi]
        mov rax, [pml4 + 1*8]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PML4E A=1 D=0 after a read"
        mov rax, [pdpt_t]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PDPTE A=1 D=0 after a read"
        mov rax, [pd_t]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PDE A=1 D=0 after a read"
        mov rax, [pt_t]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PTE A=1 D=0 after a read"
        mov qword [rsi + 8], 1
        mov rax, [pt_t]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A | PG_D, 4, "PTE A=1 D=1 after a write"
        mov rax, [pd_t]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PDE (non-leaf) D stays 0 after a write"
        mov rax, [pdpt_t]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PDPTE (non-leaf) D stays 0 after a write"
        mov rax, [pml4 + 1*8]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "PML4E D stays 0 after a write"
        ; the 2 MiB page: A and D live in the PDE
        and qword [pd_t + 1*8], ~(PG_A | PG_D)
        mov rsi, VA_2M
        invlpg [rsi]
        mov rax, [rsi]
        mov rax, [pd_t + 1*8]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "2 MiB PDE A=1 D=0 after a read"
        mov [rsi], rax
        mov rax, [pd_t + 1*8]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A | PG_D, 4, "2 MiB PDE A=1 D=1 after a write"
        cmp byte [has_1g], 0
        je .done
        ; the 1 GiB page: A and D live in the PDPTE
        and qword [pdpt_t + 1*8], ~(PG_A | PG_D)
        mov rsi, VA_1G + pg_a
        invlpg [rsi]
        mov rax, [rsi]
        mov rax, [pdpt_t + 1*8]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A, 4, "1 GiB PDPTE A=1 D=0 after a read"
        mov [rsi + 0x40], rax
        mov rax, [pdpt_t + 1*8]
        and eax, PG_A | PG_D
        LCHECK rax, PG_A | PG_D, 4, "1 GiB PDPTE A=1 D=1 after a write"
.done:  LOK "4 accessed and dirty bits at every level"
        ret

; -------------------------------------------------------------------- 5. NX
; §5.6: with EFER.NXE=1, XD (bit 63) in any entry of the walk forbids
; instruction fetches; §5.7: error code bit 4 (I/D) for a fetch, also for a
; not-present one when NXE=1. With NXE=0 bit 63 is reserved (§5.5.4).
test_nx:
        mov eax, 0x80000001
        cpuid
        bt edx, 20
        jc .has
        LPRINTLN "skip NX: CPUID.80000001H:EDX.NX=0"
        ret
.has:   mov byte [has_nx], 1
        mov ecx, MSR_EFER
        rdmsr
        or eax, EFER_NXE
        wrmsr
        mov rax, pg_code + PRW + PG_NX
        mov [pt_t + 2*8], rax
        mov rsi, VA_PG(2)
        invlpg [rsi]
        LEXPECT 14, 0x11, VA_PG(2), .f1r, 5, "#PF 11h: fetch from an XD page"
        mov rax, rsi
        jmp rax
.f1r:   LEXPECT_DONE
        LCHECK [lexp_cr2], VA_PG(2), 5, "CR2 after the XD fetch"
        mov eax, [rsi]              ; reading an XD page is fine
        LCHECK rax, 0x00600DB8, 5, "read from an XD page"
        mov qword [pt_t + 2*8], pg_code + PRW
        invlpg [rsi]
        xor eax, eax
        call rsi
        LCHECK rax, 0x600D, 5, "the page runs once XD is cleared"
        ; XD in the PDE only (the PTE under it has XD=0)
        mov rax, pt_t2 + PG_P + PG_NX
        mov [pd_t + 2*8], rax
        mov rdi, VA_T2
        invlpg [rdi]
        LEXPECT 14, 0x11, VA_T2, .f2r, 5, "#PF 11h: fetch under an XD PDE"
        jmp rdi
.f2r:   LEXPECT_DONE
        mov qword [pd_t + 2*8], pt_t2 + PG_P
        invlpg [rdi]
        xor eax, eax
        call rdi
        LCHECK rax, 0x600D, 5, "runs once the PDE's XD is cleared"
        ; not present, fetched: P=0, I/D=1
        mov rdi, VA_PG(3)
        LEXPECT 14, 0x10, VA_PG(3), .f3r, 5, "#PF 10h: fetch from a not-present page"
        jmp rdi
.f3r:   LEXPECT_DONE
        ; NXE=0: bit 63 is reserved -> P=1, RSVD=1 on a read
        mov rax, pg_code + PRW + PG_NX
        mov [pt_t + 2*8], rax
        mov ecx, MSR_EFER
        rdmsr
        and eax, ~EFER_NXE
        wrmsr
        invlpg [rsi]
        LEXPECT 14, LANYERR, .f4, .f4r, 5, "#PF: bit 63 set with EFER.NXE=0"
.f4:    mov eax, [rsi]
.f4r:   LEXPECT_DONE
        RSVD_ERR 0x09, 5
        LCHECK [lexp_cr2], VA_PG(2), 5, "CR2 after the reserved-bit fault"
        mov ecx, MSR_EFER
        rdmsr
        or eax, EFER_NXE
        wrmsr
        invlpg [rsi]
        ; slot 10: a user page with XD, for the ring-3 fetch in test_user
        mov rax, pg_code + PG_P + PG_US + PG_NX
        mov [pt_t + 10*8], rax
        LOK "5 NX: XD in the PTE and in the PDE, I/D, NXE=0 makes bit 63 reserved"
        ret

; ------------------------------------------------------------ 6. R/W, CR0.WP
; §5.6: supervisor writes to read-only pages are allowed with CR0.WP=0 and
; fault with CR0.WP=1; R/W is the AND over the walk.
test_wp:
        mov rax, cr0
        and rax, ~CR0_WP
        mov cr0, rax
        mov rsi, VA_PG(1)
        mov dword [rsi], 0x0000C0DE
        LCHECK [pg_ro], 0x0000C0DE, 6, "WP=0: supervisor write to a read-only PTE"
        mov rdi, VA_T2 + 4096
        mov dword [rdi], 0x0000BEEF
        LCHECK [pg_t2data], 0x0000BEEF, 6, "WP=0: supervisor write under a read-only PDE"
        mov rdx, VA_PG(7)
        mov dword [rdx], 0x00001234
        LCHECK [pg_user_ro], 0x00001234, 6, "WP=0: supervisor write to a user read-only page"
        mov rax, cr0
        or rax, CR0_WP
        mov cr0, rax
        LEXPECT 14, 0x03, .w1, .w1r, 6, "#PF 03h: WP=1, read-only PTE"
.w1:    mov dword [rsi], 1
.w1r:   LEXPECT_DONE
        LCHECK [lexp_cr2], VA_PG(1), 6, "CR2, read-only PTE"
        LEXPECT 14, 0x03, .w2, .w2r, 6, "#PF 03h: WP=1, read-only PDE"
.w2:    mov dword [rdi + 4], 1
.w2r:   LEXPECT_DONE
        LCHECK [lexp_cr2], VA_T2 + 4096 + 4, 6, "CR2, read-only PDE"
        LEXPECT 14, 0x03, .w3, .w3r, 6, "#PF 03h: WP=1, user read-only page"
.w3:    mov byte [rdx + 0xFFF], 1
.w3r:   LEXPECT_DONE
        LCHECK [lexp_cr2], VA_PG(7) + 0xFFF, 6, "CR2, user read-only page"
        LCHECK [pg_ro], 0x0000C0DE, 6, "the faulting write did not happen"
        mov eax, [rsi]              ; reads are fine
        LOK "6 R/W and CR0.WP for supervisor writes"
        ret

; --------------------------------------------------------------- 7. ring 3
; §5.6: user-mode accesses need U/S=1 in every entry of the walk, writes
; need R/W=1 in every entry. Error codes (§5.7): P bit 0, W/R bit 1, U/S
; bit 2, I/D bit 4.
test_user:
        mov rax, user_part
        call run_user
        LOK "7 U/S from ring 3 (printed at ring 0)"
        ret

user_part:                          ; CPL 3
        mov rax, cs
        LCHECK rax, SEL_UCODE64 | 3, 7, "CS at ring 3"
        mov rsi, VA_PG(6)
        mov qword [rsi], 0x7777
        LCHECK [pg_user], 0x7777, 7, "ring 3 writes a user page"
        mov rsi, VA_PG(7)
        mov eax, [rsi]
        LCHECK rax, 0x00001234, 7, "ring 3 reads a user read-only page"
        LEXPECT 14, 0x07, .u1, .u1r, 7, "#PF 07h: ring 3 writes a user read-only page"
.u1:    mov [rsi], eax
.u1r:   LEXPECT_DONE
        mov rsi, VA_PG(8)
        LEXPECT 14, 0x05, .u2, .u2r, 7, "#PF 05h: ring 3 reads a supervisor PTE"
.u2:    mov eax, [rsi]
.u2r:   LEXPECT_DONE
        LCHECK [lexp_cr2], VA_PG(8), 7, "CR2, supervisor page"
        mov rsi, VA_T2 + 4096
        LEXPECT 14, 0x05, .u3, .u3r, 7, "#PF 05h: U=0 in the PDE only"
.u3:    mov eax, [rsi]
.u3r:   LEXPECT_DONE
        mov rsi, VA_HI + pg_user
        LEXPECT 14, 0x05, .u4, .u4r, 7, "#PF 05h: U=0 in the PML4E only (upper half)"
.u4:    mov eax, [rsi]
.u4r:   LEXPECT_DONE
        mov rsi, VA_PG(3)
        LEXPECT 14, 0x04, .u5, .u5r, 7, "#PF 04h: ring 3 reads a not-present page"
.u5:    mov eax, [rsi]
.u5r:   LEXPECT_DONE
        LEXPECT 14, 0x06, .u6, .u6r, 7, "#PF 06h: ring 3 writes a not-present page"
.u6:    mov [rsi], eax
.u6r:   LEXPECT_DONE
        mov rax, [lexp_cs]
        LCHECK rax, SEL_UCODE64 | 3, 7, "saved CS of the ring-3 fault"
        mov rax, [lexp_ss]
        LCHECK rax, SEL_UDATA | 3, 7, "saved SS of the ring-3 fault"
        cmp byte [has_nx], 0
        je .back
        mov rsi, VA_PG(10)
        LEXPECT 14, 0x15, VA_PG(10), .u7r, 7, "#PF 15h: ring 3 fetches from a user XD page"
        jmp rsi
.u7r:   LEXPECT_DONE
.back:  int VEC_TO_KERNEL

; run_user: run the ring-3 routine at RAX (64-bit, ends with INT 81h) and
; return to the caller at ring 0. IRETQ to an outer level pops SS:RSP too
; (Vol. 2A IRET).
run_user:
        mov [kret_rsp], rsp
        push SEL_UDATA | 3
        push user_stack_top
        push USER_RFLAGS
        push SEL_UCODE64 | 3
        push rax
        iretq

; to_kernel_hook (INT 81h from ring 3): resume run_user's caller at ring 0.
to_kernel_hook:
        mov rax, [kret_rsp]
        mov [rbx + LF_RSP], rax
        mov qword [rbx + LF_RIP], .ret
        mov qword [rbx + LF_CS], SEL_CODE64
        mov qword [rbx + LF_SS], SEL_DATA64
        mov qword [rbx + LF_RFLAGS], 2
        ret
.ret:   ret

; --------------------------------------------------------- 8. reserved bits
; §5.5.4 tables 5-15 to 5-20: bits MAXPHYADDR..51 of an entry's address
; are reserved, so is PS in a PML4E; §5.7: a reserved bit gives P=1, RSVD=1.
test_rsvd:
        mov eax, 0x80000000
        cpuid
        cmp eax, 0x80000008
        jb .pml4
        mov eax, 0x80000008
        cpuid
        movzx ecx, al               ; MAXPHYADDR
        cmp ecx, 52
        jae .pml4
        mov rax, 1
        shl rax, cl
        or rax, pg_a + PRW
        mov [pt_t + 9*8], rax
        mov rsi, VA_PG(9)
        invlpg [rsi]
        LEXPECT 14, LANYERR, .r1, .r1r, 8, "#PF: PTE address bit MAXPHYADDR set, read"
.r1:    mov eax, [rsi]
.r1r:   LEXPECT_DONE
        RSVD_ERR 0x09, 8
        LCHECK [lexp_cr2], VA_PG(9), 8, "CR2, reserved bit"
        LEXPECT 14, LANYERR, .r2, .r2r, 8, "#PF: PTE address bit MAXPHYADDR set, write"
.r2:    mov [rsi], eax
.r2r:   LEXPECT_DONE
        RSVD_ERR 0x0B, 8
        mov qword [pt_t + 9*8], 0
        invlpg [rsi]
.pml4:  mov qword [pml4 + 2*8], pdpt_t + (PRW | PG_PS)
        mov rsi, VA_RSVD_PML4
        invlpg [rsi]
        LEXPECT 14, LANYERR, .r3, .r3r, 8, "#PF: PS=1 in a PML4E"
.r3:    mov eax, [rsi]
.r3r:   LEXPECT_DONE
        RSVD_ERR 0x09, 8
        mov qword [pml4 + 2*8], 0
        invlpg [rsi]
        LOK "8 reserved bits: RSVD in the error code"
        ret

; -------------------------------------------------------------------- 9. TLB
; §5.10.4.1: MOV to CR3 invalidates the TLB entries of non-global pages;
; INVLPG those of the given page, global or not; a MOV to CR4 that changes
; CR4.PGE invalidates all, global ones included. A global translation may
; outlive a CR3 load (it may also be dropped: TLBs are not guaranteed).
test_tlb:
        mov rsi, VA_PG(4)
        mov eax, [rsi]
        LCHECK rax, 0x11111111, 9, "PTE -> pg_x"
        mov qword [pt_t + 4*8], pg_y + PRW
        mov rax, cr3
        mov cr3, rax
        mov eax, [rsi]
        LCHECK rax, 0x22222222, 9, "non-global PTE re-walked after a CR3 reload"
        mov qword [pt_t + 4*8], pg_x + PRW
        invlpg [rsi]
        mov eax, [rsi]
        LCHECK rax, 0x11111111, 9, "new PTE used after INVLPG"
        ; global pages
        mov rax, cr4
        or rax, CR4_PGE
        mov cr4, rax
        mov qword [pt_t + 5*8], pg_x + (PRW | PG_G)
        mov rdi, VA_PG(5)
        invlpg [rdi]
        mov eax, [rdi]
        LCHECK rax, 0x11111111, 9, "global PTE -> pg_x"
        mov qword [pt_t + 5*8], pg_y + (PRW | PG_G)
        mov rax, cr3
        mov cr3, rax
        mov eax, [rdi]
        cmp eax, 0x11111111
        je .stale
        LCHECK rax, 0x22222222, 9, "global page after a CR3 reload: old or new"
        LPRINTLN "info: the global translation did not survive the CR3 reload (allowed)"
        jmp .g2
.stale: LPRINTLN "info: the global translation survived the CR3 reload (allowed)"
.g2:    invlpg [rdi]
        mov eax, [rdi]
        LCHECK rax, 0x22222222, 9, "global PTE re-walked after INVLPG"
        mov qword [pt_t + 5*8], pg_x + (PRW | PG_G)
        mov rax, cr4
        and rax, ~CR4_PGE
        mov cr4, rax
        or rax, CR4_PGE
        mov cr4, rax
        mov eax, [rdi]
        LCHECK rax, 0x11111111, 9, "global PTE re-walked after toggling CR4.PGE"
        LOK "9 CR3 reload, INVLPG, global pages"
        ret

; ------------------------------------------------------------ 10. IST, IRETQ
; §7.14.5: a gate with a nonzero IST field switches to that TSS.ISTn stack
; unconditionally; §7.14.2: the CPU aligns the new RSP down to 16 bytes and
; always pushes SS and RSP; §7.14.3: IRETQ pops all five.
test_ist:
        LSET_IST 14, 1
        mov rsi, VA_PG(3)
        mov [ist_saved_rsp], rsp
        LEXPECT 14, 0, .i1, .i1r, 10, "#PF through a gate with IST=1"
.i1:    mov eax, [rsi]
.i1r:   LEXPECT_DONE
        LSET_IST 14, 0
        mov rax, [lexp_frame]
        add rax, LF_RIP
        LCHECK rax, ist1_top - 40, 10, "#PF frame at the top of the IST1 stack"
        mov rax, [ist_saved_rsp]
        LCHECK [lexp_rsp], rax, 10, "saved RSP = RSP at the fault"
        LCHECK [lexp_ss], SEL_DATA64, 10, "saved SS = SS at the fault"
        LCHECK [lexp_cs], SEL_CODE64, 10, "saved CS"
        mov rcx, rsp
        LCHECK rcx, rax, 10, "RSP after IRETQ"
        ; #DF: #DE with the #DE gate not present gives #NP(vector 0), and
        ; #DE then #NP (contributory, contributory) is a #DF (§7.15
        ; "Interrupt 8", table 7-5). #DF is an abort: its saved RIP is
        ; undefined and not checked; the hook moves it on.
        and byte [idt64 + 0*16 + 5], 0x7F           ; P=0
        LEXPECT 8, 0, LANYRIP, .d1r, 10, "#DF (#DE, then #NP) through IST2, error code 0"
        xor edx, edx
        xor ecx, ecx
        div ecx
.d1r:   LEXPECT_DONE
        or byte [idt64 + 0*16 + 5], 0x80
        mov rax, [lexp_frame]
        add rax, LF_RIP
        LCHECK rax, ist2_top - 40, 10, "#DF frame at the top of the IST2 stack"
        ; No IST, no privilege change: the frame goes at RSP & ~15 (§7.14.2).
        mov [ist_saved_rsp], rsp
        and rsp, ~15
        sub rsp, 8                  ; RSP = 8 mod 16
        mov [ist_odd_rsp], rsp
        LEXPECT 3, LNOERR, .bp, .bp, 10, "#BP with RSP = 8 mod 16"
        int3
.bp:    mov rsp, [ist_saved_rsp]
        LEXPECT_DONE
        mov rax, [ist_odd_rsp]
        LCHECK [lexp_rsp], rax, 10, "saved RSP (unaligned)"
        and rax, ~15
        sub rax, 40
        mov rcx, [lexp_frame]
        add rcx, LF_RIP
        LCHECK rcx, rax, 10, "frame at (RSP & ~15) - 40"
        LOK "10 IST1 #PF, IST2 #DF, 16-byte frame alignment, IRETQ"
        ret

rsvd_err:
        mov rdx, [lexp_errcode]
        cmp rdx, rax
        je .ok
%ifndef STRICT_SDM
        mov r8, rax
        and r8, ~PG_ERR_P
        cmp rdx, r8
        jne .bad
        LPRINTLN "note: P=0 in that reserved-bit error code, the SDM says P=1 (accepted: QEMU 7.2 does this; -DSTRICT_SDM to refuse)"
        ret
%endif
.bad:   mov [lchk_got], rdx
        mov [lchk_want], rax
        LPRINT "FAIL reserved-bit #PF error code: "
        jmp lcheck_failed_values
.ok:    LPRINTLN "ok error code with P=1 and RSVD=1"
        ret

        section .bss
        alignb 4096
pdpt_t:         resq 512
pd_t:           resq 512
pt_t:           resq 512
pt_t2:          resq 512
pg_a:           resb 4096
pg_ro:          resb 4096
pg_code:        resb 4096
pg_code2:       resb 4096
pg_x:           resb 4096
pg_y:           resb 4096
pg_user:        resb 4096
pg_user_ro:     resb 4096
pg_super:       resb 4096
pg_t2data:      resb 4096
                resb 4096
user_stack_top:
kret_rsp:       resq 1
ist_saved_rsp:  resq 1
ist_odd_rsp:    resq 1
has_1g:         resb 1
has_nx:         resb 1
        section .text

%include "end.inc"
