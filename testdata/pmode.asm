; pmode.asm: 32-bit paging (SDM Vol. 3A chapter 4): 4 KiB pages through a page
; table and 4 MiB pages (CR4.PSE), aliases, CR0.WP, accessed/dirty bits,
; INVLPG, CR3 reload, and page faults (CR2 and error code) handled both by
; skipping the instruction and by fixing the PTE and retrying.
; Verdict: 0 = all passed, else the number of the failing check (below).

%include "common.inc"
%include "idt.inc"
%include "expect.inc"
%include "paging.inc"

VA_HI           equ 0xC0000000      ; PDE 0x300 -> pt_hi, 4 KiB pages
VA_PSE_ALIAS    equ 0x00800000      ; PDE 2: 4 MiB page -> physical 4 MiB
PA_PSE          equ 0x00400000      ; PDE 1: 4 MiB page, identity
PDE_HI          equ page_dir + (VA_HI >> 22) * 4
PDE_PSE_ALIAS   equ page_dir + (VA_PSE_ALIAS >> 22) * 4
; pt_hi slots (VA_HI + n*4096):
;  0 -> data_a (read/write)       1 -> not present, fixed by the #PF hook
;  2 -> ro_page (read-only)       3 -> page_x / page_y (INVLPG, CR3 tests)
;  5 -> not present, skipped

main:
        call idt_init
        call expect_install
        call paging_setup
        ; §4.3 table 4-4/4-5: a PDE with PS=1 maps a 4 MiB page when CR4.PSE=1.
        mov eax, cr4
        or eax, CR4_PSE
        mov cr4, eax
        mov dword [page_dir + 1*4], PA_PSE | PG_P | PG_RW | PG_PS
        mov dword [PDE_PSE_ALIAS], PA_PSE | PG_P | PG_RW | PG_PS
        mov dword [PDE_HI], pt_hi + (PG_P | PG_RW)
        mov dword [pt_hi + 0*4], data_a + (PG_P | PG_RW)
        mov dword [pt_hi + 2*4], ro_page + PG_P
        mov dword [pt_hi + 3*4], page_x + (PG_P | PG_RW)
        mov dword [page_x], 0x11111111
        mov dword [page_y], 0x22222222
        mov dword [page_fix + 8], 0xF1F1F1F1
        call paging_enable
        OK "paging on, identity map runs the code"

; 1. A 4 KiB alias: one physical page at two linear addresses (§4.3).
        mov dword [VA_HI + 0x10], 0x12345678
        CHECK_EQ [data_a + 0x10], 0x12345678, 1, "write via alias, read identity"
        mov dword [data_a + 0x20], 0x9ABCDEF0
        CHECK_EQ [VA_HI + 0x20], 0x9ABCDEF0, 1, "write identity, read via alias"
        OK "4 KiB alias"

; 2. A 4 MiB page (PSE) and its alias.
        mov dword [VA_PSE_ALIAS + 0x1234], 0xCAFEBABE
        CHECK_EQ [PA_PSE + 0x1234], 0xCAFEBABE, 2, "4 MiB page alias"
        mov dword [PA_PSE + 0x3FFFFC], 0x0BADF00D     ; last dword of the page
        CHECK_EQ [VA_PSE_ALIAS + 0x3FFFFC], 0x0BADF00D, 2, "4 MiB page alias, end of page"
        OK "4 MiB PSE page alias"

; 3. Accessed and dirty bits (§4.8): a read sets A in the PDE and the PTE,
; a write sets D in the PTE (D in a PDE that maps a page table is ignored).
        and dword [pt_hi], ~(PG_A | PG_D)
        and dword [PDE_HI], ~(PG_A | PG_D)
        invlpg [VA_HI]
        mov eax, [VA_HI]
        mov eax, [pt_hi]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A, 3, "PTE A=1 D=0 after read"
        mov eax, [PDE_HI]
        and eax, PG_A
        CHECK_EQ eax, PG_A, 3, "PDE A=1 after read"
        mov dword [VA_HI + 4], 5
        mov eax, [pt_hi]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A | PG_D, 3, "PTE A=1 D=1 after write"
        OK "accessed/dirty bits, 4 KiB page"

; 4. The same for a 4 MiB page: A and D live in the PDE (§4.8).
        and dword [PDE_PSE_ALIAS], ~(PG_A | PG_D)
        invlpg [VA_PSE_ALIAS]
        mov eax, [VA_PSE_ALIAS]
        mov eax, [PDE_PSE_ALIAS]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A, 4, "4 MiB PDE A=1 D=0 after read"
        mov dword [VA_PSE_ALIAS + 8], 5
        mov eax, [PDE_PSE_ALIAS]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A | PG_D, 4, "4 MiB PDE A=1 D=1 after write"
        OK "accessed/dirty bits, 4 MiB page"

; 5. CR0.WP (§4.1.3, §4.6.1): with WP=0 a supervisor write to a read-only
; page succeeds; with WP=1 it is a #PF with error code P=1 W=1 U/S=0 (3).
        mov eax, cr0
        and eax, ~CR0_WP
        mov cr0, eax
        mov dword [VA_HI + 0x2000 + 0x40], 0x55
        CHECK_EQ [ro_page + 0x40], 0x55, 5, "WP=0: supervisor write to read-only page"
        OK "CR0.WP=0 lets ring 0 write a read-only page"
        mov eax, cr0
        or eax, CR0_WP
        mov cr0, eax
        EXPECT 14, 3, .wp, .wpr, 6, "WP=1: #PF on write to read-only page"
        mov edi, VA_HI + 0x2000 + 0x40
.wp:    mov dword [edi], 0x66
.wpr:   EXPECT_DONE
        CHECK_EQ [exp_cr2], VA_HI + 0x2000 + 0x40, 6, "WP #PF CR2"
        CHECK_EQ [ro_page + 0x40], 0x55, 6, "WP #PF: memory unchanged"

; 7. The same fault, fixed by the handler: it sets R/W in the PTE, INVLPGs,
; and returns to the faulting instruction, which now completes (§6.5: a
; fault's saved EIP lets the instruction restart).
        SET_HOOK 14, pf_fix_hook
        mov dword [fix_pte], pt_hi + 2*4
        mov dword [fix_val], ro_page + (PG_P | PG_RW)
        mov edi, VA_HI + 0x2000 + 0x44
.wpfix: mov dword [edi], 0x77
        CHECK_EQ [fix_hits], 1, 7, "WP #PF fixed and retried: one fault"
        CHECK_EQ [fix_err], 3, 7, "WP #PF error code"
        CHECK_EQ [fix_cr2], VA_HI + 0x2000 + 0x44, 7, "WP #PF CR2"
        CHECK_EQ [fix_eip], .wpfix, 7, "WP #PF saved EIP = faulting instruction"
        CHECK_EQ [ro_page + 0x44], 0x77, 7, "WP #PF retried write landed"
        OK "write-protection #PF (P=1 W=1), fixed PTE and retried"

; 8. Not-present read, fixed by the handler: error code 0 (P=0, read,
; supervisor), CR2 = the address; the retried load sees the new page.
        mov dword [fix_hits], 0
        mov dword [fix_pte], pt_hi + 1*4
        mov dword [fix_val], page_fix + (PG_P | PG_RW)
        mov esi, VA_HI + 0x1000 + 8
.npfix: mov eax, [esi]
        CHECK_EQ [fix_hits], 1, 8, "not-present #PF fixed and retried: one fault"
        CHECK_EQ [fix_err], 0, 8, "not-present read #PF error code"
        CHECK_EQ [fix_cr2], VA_HI + 0x1000 + 8, 8, "not-present read #PF CR2"
        CHECK_EQ [fix_eip], .npfix, 8, "not-present #PF saved EIP"
        CHECK_EQ eax, 0xF1F1F1F1, 8, "retried load after fixing the PTE"
        OK "not-present #PF (P=0 read), fixed PTE and retried"

; 9. Not-present write, skipped: error code 2 (P=0, W/R=1, U/S=0).
        SET_HOOK 14, expect_hook
        EXPECT 14, 2, .npw, .npwr, 9, "not-present write #PF"
        mov edi, VA_HI + 0x5000 + 0xFFC
.npw:   mov dword [edi], 1
.npwr:  EXPECT_DONE
        CHECK_EQ [exp_cr2], VA_HI + 0x5000 + 0xFFC, 9, "not-present write #PF CR2"

; 10. INVLPG (§4.10.4.1): after changing a PTE, INVLPG makes the next
; access use the new translation. (What the access gives between the PTE
; write and INVLPG is not checked: the TLB may or may not hold the old one.)
        CHECK_EQ [VA_HI + 0x3000], 0x11111111, 10, "page_x mapped"
        mov dword [pt_hi + 3*4], page_y + (PG_P | PG_RW)
        invlpg [VA_HI + 0x3000]
        CHECK_EQ [VA_HI + 0x3000], 0x22222222, 10, "INVLPG: new PTE used"
        OK "INVLPG after changing a PTE"

; 11. A MOV to CR3 flushes the non-global TLB entries (§4.10.4.1).
        mov dword [pt_hi + 3*4], page_x + (PG_P | PG_RW)
        mov eax, cr3
        mov cr3, eax
        CHECK_EQ [VA_HI + 0x3000], 0x11111111, 11, "CR3 reload: new PTE used"
        OK "CR3 reload flushes the TLB"

; 12. Paging off again: linear = physical (§9.9.2).
        mov eax, cr0
        and eax, ~CR0_PG
        mov cr0, eax
        jmp .off
.off:   CHECK_EQ [data_a + 0x10], 0x12345678, 12, "paging off"
        OK "paging off"
        xor eax, eax
        ret

; pf_fix_hook: record CR2, error code and EIP; write [fix_val] to the PTE at
; [fix_pte]; INVLPG the address; return to retry the instruction.
pf_fix_hook:
        inc dword [fix_hits]
        mov eax, cr2
        mov [fix_cr2], eax
        mov eax, [ebx + F_ERR]
        mov [fix_err], eax
        mov eax, [ebx + F_EIP]
        mov [fix_eip], eax
        mov eax, [fix_pte]
        mov edx, [fix_val]
        mov [eax], edx
        mov eax, cr2
        invlpg [eax]
        ret

        section .bss
fix_hits:       resd 1
fix_cr2:        resd 1
fix_err:        resd 1
fix_eip:        resd 1
fix_pte:        resd 1
fix_val:        resd 1
        alignb 4096
pt_hi:          resb 4096
data_a:         resb 4096
ro_page:        resb 4096
page_x:         resb 4096
page_y:         resb 4096
page_fix:       resb 4096
        section .text

%include "end.inc"
