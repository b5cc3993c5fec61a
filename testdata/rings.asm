; rings.asm: privilege levels (SDM Vol. 3A chapter 5 "Protection", chapter 6,
; chapter 7 "Task management" for the TSS).
;   - a TSS gives the ring-0 stack (ESP0/SS0) for every entry from ring 3
;   - IRET to ring 3 (and the data segment registers it nulls)
;   - a call gate (DPL 3, 2 parameters) from ring 3 to ring 0: CS, the stack
;     switch to ESP0, caller's SS:ESP and the copied parameters; RETF 8 back
;   - INT 0x80 through a DPL-3 interrupt gate: stack switch, frame, IRET back
;   - INT to a DPL-0 gate from ring 3: #GP(vector*8+2)
;   - CLI, HLT, MOV from/to CR0 and IN at CPL 3 with IOPL 0: #GP(0)
;   - a conforming DPL-0 code segment called from ring 3 runs at CPL 3
;   - user/supervisor paging from ring 3: #PF error codes with U/S=1
; Ring-3 code prints through INT SVC_PUTC and exits through INT SVC_EXIT
; (DPL-3 gates), so the usual check macros work at CPL 3.
; Verdict: 0 = pass, else the failing group (1-10).

%define RING3_SERVICES
SVC_PUTC        equ 0x82
SVC_EXIT        equ 0x83
VEC_SYSCALL     equ 0x80        ; DPL 3 gate
VEC_KERNEL_ONLY equ 0x81        ; DPL 0 gate

%macro GDT_EXTRA 0
        dq 0x00CFFA000000FFFF   ; 0x18 code, DPL 3, 32-bit, flat
        dq 0x00CFF2000000FFFF   ; 0x20 data, DPL 3, flat
        dq 0x0000890000000067   ; 0x28 32-bit TSS, available, limit 103; base at run time
        dq 0                    ; 0x30 call gate, built at run time
        dq 0x00CF9E000000FFFF   ; 0x38 code, DPL 0, CONFORMING, execute/read, flat
%endmacro
SEL_CODE3       equ 0x18 | 3
SEL_DATA3       equ 0x20 | 3
SEL_TSS         equ 0x28
SEL_GATE        equ 0x30 | 3
SEL_CONF        equ 0x38 | 3

%include "common.inc"
%include "idt.inc"
%include "expect.inc"
%include "paging.inc"

VA_PROT         equ 0xC0000000  ; pt_prot: [0] supervisor page, [1] user read-only, [2] not present

main:
        call idt_init
        call expect_install
        SET_HOOK VEC_SYSCALL, int80_hook
        SET_GATE_TYPE VEC_SYSCALL, GATE_INT3
        SET_HOOK SVC_PUTC, svc_putc
        SET_GATE_TYPE SVC_PUTC, GATE_INT3
        SET_HOOK SVC_EXIT, svc_exit
        SET_GATE_TYPE SVC_EXIT, GATE_INT3
        ; vector 0x81 keeps its DPL-0 gate.

        ; TSS (§7.2.1): ESP0 at offset 4, SS0 at 8; the I/O map base (offset
        ; 102) at the limit + 1 means no I/O permission bitmap (§18.5.2).
        mov dword [tss + 4], kstack_top
        mov dword [tss + 8], SEL_DATA0
        mov word [tss + 102], 104
        mov eax, tss
        mov edi, gdt + SEL_TSS
        call set_desc_base
        mov ax, SEL_TSS
        ltr ax

        ; Call gate (§5.8.3, figure 5-8): selector 0x08, offset gate_target,
        ; 2 dword parameters, type 1100b (32-bit call gate), DPL 3, present.
        mov eax, gate_target
        mov edi, gdt + (SEL_GATE & ~3)
        mov [edi], ax
        mov word [edi + 2], SEL_CODE0
        mov byte [edi + 4], 2
        mov byte [edi + 5], 0xEC
        shr eax, 16
        mov [edi + 6], ax

        ; Paging: identity 0-4 MiB open to ring 3; VA_PROT pages for #PF checks.
        call paging_setup
        mov ecx, 1024
.us:    or dword [pt_low + ecx*4 - 4], PG_US
        loop .us
        or dword [page_dir], PG_US
        mov dword [page_dir + (VA_PROT >> 22) * 4], pt_prot + (PG_P | PG_RW | PG_US)
        mov dword [pt_prot + 0], prot_page + (PG_P | PG_RW)          ; supervisor only
        mov dword [pt_prot + 4], prot_page + (PG_P | PG_US)          ; user, read-only
        mov dword [prot_page + 0x10], 0x5A5A5A5A
        call paging_enable

        ; 1. Into ring 3 with IRET (SDM Vol. 2A IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL):
        ; it pops EIP, CS, EFLAGS, ESP, SS.
        mov [main_esp], esp
        push dword SEL_DATA3
        push dword user_stack_top
        push dword 0x00000002       ; EFLAGS: IOPL 0, IF 0
        push dword SEL_CODE3
        push dword ring3
        iretd

; ---------------------------------------------------------------- ring 3 --
ring3:
        mov ebp, ds                 ; IRET to an outer level nulls DS, ES, FS, GS
        mov edi, es                 ; when their DPL < the new CPL (SDM Vol. 2A IRET)
        mov eax, esp
        mov bx, SEL_DATA3
        mov ds, bx
        mov es, bx
        mov fs, bx
        mov gs, bx
        CHECK_EQ eax, user_stack_top, 1, "ESP after IRET to ring 3"
        mov eax, cs
        CHECK_EQ eax, SEL_CODE3, 1, "CS after IRET to ring 3"
        mov eax, ss
        CHECK_EQ eax, SEL_DATA3, 1, "SS after IRET to ring 3"
        CHECK_EQ ebp, 0, 1, "DS nulled by IRET to ring 3"
        CHECK_EQ edi, 0, 1, "ES nulled by IRET to ring 3"
        OK "IRET to ring 3 (printed from ring 3 through INT 0x82)"

; 2. Far CALL through the call gate (§5.8.5, figure 5-13 "Stack Switching
; During an Interprivilege Call"): the new stack from TSS.ESP0 holds caller
; SS, caller ESP, the parameters in order, caller CS, caller EIP.
        push dword 0xAAAA1111
        push dword 0xBBBB2222
        mov [r3_esp], esp
        call SEL_GATE:0             ; the offset is ignored for a gate
.after_gate:
        mov eax, esp
        mov edx, [r3_esp]
        add edx, 8
        CHECK_EQ eax, edx, 2, "RETF 8 pops the parameters from the ring-3 stack"
        mov eax, cs
        CHECK_EQ eax, SEL_CODE3, 2, "CS after RETF to ring 3"
        CHECK_EQ [g_cs], SEL_CODE0, 2, "CS in the gate target (RPL 0)"
        CHECK_EQ [g_ss], SEL_DATA0, 2, "SS in the gate target = TSS.SS0"
        CHECK_EQ [g_esp], kstack_top - 24, 2, "ESP in the gate target = TSS.ESP0 - 24"
        CHECK_EQ [g_frame + 0], .after_gate, 2, "gate frame: return EIP"
        CHECK_EQ [g_frame + 4], SEL_CODE3, 2, "gate frame: caller CS"
        CHECK_EQ [g_frame + 8], 0xBBBB2222, 2, "gate frame: parameter 0"
        CHECK_EQ [g_frame + 12], 0xAAAA1111, 2, "gate frame: parameter 1"
        CHECK_EQ [g_frame + 16], [r3_esp], 2, "gate frame: caller ESP"
        CHECK_EQ [g_frame + 20], SEL_DATA3, 2, "gate frame: caller SS"
        OK "call gate ring 3 -> ring 0 with 2 parameters, RETF 8 back"

; 3. INT 0x80 through a DPL-3 interrupt gate (§6.12.1, figure 6-4): the
; stack switches to TSS.ESP0 and gets SS, ESP, EFLAGS, CS, EIP; IRET returns.
        mov [r3_esp], esp
        xor eax, eax                ; function 0: record the frame
        int VEC_SYSCALL
.after_int:
        mov eax, esp
        CHECK_EQ eax, [r3_esp], 3, "ESP after IRET from INT 0x80"
        CHECK_EQ [i_frame_end], kstack_top, 3, "INT 0x80 frame ends at TSS.ESP0"
        CHECK_EQ [i_ss], SEL_DATA0, 3, "SS in the handler = TSS.SS0"
        CHECK_EQ [i_cs], SEL_CODE0, 3, "CS in the handler"
        CHECK_EQ [i_frame + 0], .after_int, 3, "INT frame: EIP after the INT"
        CHECK_EQ [i_frame + 4], SEL_CODE3, 3, "INT frame: CS"
        CHECK_EQ [i_frame + 12], [r3_esp], 3, "INT frame: ESP"
        CHECK_EQ [i_frame + 16], SEL_DATA3, 3, "INT frame: SS"
        OK "INT 0x80 through a DPL-3 gate and IRET"

; 4. INT n to a gate with DPL < CPL: #GP with error code vector*8 + 2
; (IDT bit set) (§6.12.1.1, §6.13).
        EXPECT 13, VEC_KERNEL_ONLY*8 + 2, .i81, .i81r, 4, "INT to a DPL-0 gate from ring 3: #GP(vec*8+2)"
.i81:   int VEC_KERNEL_ONLY
.i81r:  EXPECT_DONE

; 5-8. Privileged and IOPL-sensitive instructions at CPL 3 (§5.9, §18.2).
        EXPECT 13, 0, .cli, .clir, 5, "CLI at CPL 3, IOPL 0: #GP(0)"
.cli:   cli
.clir:  EXPECT_DONE
        EXPECT 13, 0, .hlt, .hltr, 6, "HLT at CPL 3: #GP(0)"
.hlt:   hlt
.hltr:  EXPECT_DONE
        EXPECT 13, 0, .rcr0, .rcr0r, 7, "MOV EAX, CR0 at CPL 3: #GP(0)"
.rcr0:  mov eax, cr0
.rcr0r: EXPECT_DONE
        EXPECT 13, 0, .wcr0, .wcr0r, 7, "MOV CR0, EAX at CPL 3: #GP(0)"
        xor eax, eax
.wcr0:  mov cr0, eax
.wcr0r: EXPECT_DONE
        EXPECT 13, 0, .in, .inr, 8, "IN at CPL 3, IOPL 0, no I/O bitmap: #GP(0)"
        mov dx, COM1_LSR
.in:    in al, dx
.inr:   EXPECT_DONE

; 9. A conforming code segment keeps CPL 3 (§5.8.1.2): CS.RPL reads 3, the
; stack does not switch, and CLI there still faults.
        mov [r3_esp], esp
        call SEL_CONF:conf_fn
        CHECK_EQ [c_cs], SEL_CONF, 9, "CS in a conforming segment called from ring 3"
        CHECK_EQ [c_ss], SEL_DATA3, 9, "SS unchanged in the conforming segment"
        mov eax, [r3_esp]
        sub eax, 8
        CHECK_EQ [c_esp], eax, 9, "ESP in the conforming segment: same stack"
        OK "conforming DPL-0 code runs at CPL 3"

; 10. User-mode page faults (§4.6, §4.7): error code bit 2 (U/S) = 1.
        EXPECT 14, 5, .pfs, .pfsr, 10, "ring 3 read of a supervisor page: #PF(5)"
.pfs:   mov eax, [VA_PROT + 0x10]
.pfsr:  EXPECT_DONE
        EXPECT 14, 7, .pfw, .pfwr, 10, "ring 3 write to a read-only user page: #PF(7)"
.pfw:   mov dword [VA_PROT + 0x1000 + 0x10], 1
.pfwr:  EXPECT_DONE
        EXPECT 14, 6, .pfn, .pfnr, 10, "ring 3 write to a not-present page: #PF(6)"
.pfn:   mov dword [VA_PROT + 0x2000], 1
.pfnr:  EXPECT_DONE
        CHECK_EQ [exp_cr2], VA_PROT + 0x2000, 10, "CR2 of the ring-3 #PF"
        CHECK_EQ [VA_PROT + 0x1000 + 0x10], 0x5A5A5A5A, 10, "ring 3 reads a user read-only page"

        mov eax, 2                  ; function 2: back to ring 0 for good
        int VEC_SYSCALL
        FAIL 10, "INT 0x80 function 2 returned"

; conf_fn: runs in the conforming segment, called from ring 3.
conf_fn:
        mov eax, cs
        mov [c_cs], eax
        mov eax, ss
        mov [c_ss], eax
        mov [c_esp], esp
        EXPECT 13, 0, .cli, .clir, 9, "CLI in conforming code at CPL 3: #GP(0)"
.cli:   cli
.clir:  EXPECT_DONE
        retf

; ---------------------------------------------------------------- ring 0 --
; gate_target: reached from ring 3 through the call gate.
gate_target:
        mov eax, cs
        mov [g_cs], eax
        mov eax, ss
        mov [g_ss], eax
        mov [g_esp], esp
        mov esi, esp
        mov edi, g_frame
        mov ecx, 6
        rep movsd                   ; DS/ES are the ring-3 data segment: flat, fine at CPL 0
        retf 8

; int80_hook: EAX=0 records the frame, EAX=2 abandons ring 3.
int80_hook:
        cmp dword [ebx + F_EAX], 2
        je .leave
        mov eax, cs
        mov [i_cs], eax
        mov eax, ss
        mov [i_ss], eax
        lea eax, [ebx + F_USER_SS + 4]
        mov [i_frame_end], eax
        lea esi, [ebx + F_EIP]
        mov edi, i_frame
        mov ecx, 5
        rep movsd
        ret
.leave: mov esp, [main_esp]
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov eax, cs
        CHECK_EQ eax, SEL_CODE0, 10, "back in ring 0"
        OK "back in ring 0"
        mov eax, cr0
        and eax, ~CR0_PG
        mov cr0, eax
        jmp .off
.off:   xor eax, eax
        ret                         ; from main

svc_putc:
        mov eax, [ebx + F_EAX]
        jmp putc

svc_exit:
        mov eax, [ebx + F_EAX]
        jmp exit_verdict

set_desc_base:
        mov [edi + 2], ax
        shr eax, 16
        mov [edi + 4], al
        mov [edi + 7], ah
        ret

        section .bss
main_esp:       resd 1
r3_esp:         resd 1
g_cs:           resd 1
g_ss:           resd 1
g_esp:          resd 1
g_frame:        resd 6
i_cs:           resd 1
i_ss:           resd 1
i_frame_end:    resd 1
i_frame:        resd 5
c_cs:           resd 1
c_ss:           resd 1
c_esp:          resd 1
        alignb 16
tss:            resb 104
        alignb 16
kstack:         resb 8192
kstack_top:
user_stack:     resb 8192
user_stack_top:
        alignb 4096
pt_prot:        resb 4096
prot_page:      resb 4096
        section .text

%include "end.inc"
