; pvcall.asm: the paravirtual interface of gemu's pv mode, which is KVM's
; (Linux Documentation/virt/kvm/x86/cpuid.rst, msr.rst, hypercalls.rst), seen
; from a 32-bit guest. It runs in every mode and says which it found:
;   - "hypervisor: none" (CPUID.01H:ECX[31] = 0, gemu's full mode): VMCALL and
;     VMMCALL must raise #UD, as outside VMX/SVM operation (check 1).
;   - "hypervisor: other": the bit is set but the signature is not KVM's;
;     nothing more is checked.
;   - "hypervisor: KVM":
;     1 CPUID 40000000H: EBX ECX EDX = "KVMKVMKVM\0\0\0", EAX (the highest
;       leaf) >= 40000001H; 40000001H EAX has KVM_FEATURE_CLOCKSOURCE2 (3) and
;       KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (24)
;     2 VMCALL with an unknown number: EAX = -KVM_ENOSYS (-1000), EBX ECX EDX
;       ESI EDI kept; KVM_HC_VAPIC_POLL_IRQ (1) by VMCALL and KVM_HC_SCHED_YIELD
;       (11) by VMMCALL return 0
;     3 VMCALL at CPL 3: EAX = -KVM_EPERM (-1)
;     4 MSR_KVM_WALL_CLOCK_NEW: the pvclock_wall_clock gets an even, non-zero
;       version and seconds after 2020
;     5 MSR_KVM_SYSTEM_TIME_NEW: the pvclock_vcpu_time_info gets an even,
;       non-zero version, PVCLOCK_TSC_STABLE_BIT and a multiplier; RDMSR gives
;       the value back; two readings by the guest's formula (Linux
;       __pvclock_read_cycles) are at least the system_time and increase,
;       also across a WRMSR to IA32_TSC (by less than a second)
;     6 a structure outside RAM: WRMSR raises #GP(0) (address 0xFFFFF000, and
;       an address above 4 GiB)
; Verdict: 0 = pass, else the failing check.

%macro GDT_EXTRA 0
        dq 0x00CFFA000000FFFF   ; 0x18 code, DPL 3, 32-bit, flat
        dq 0x00CFF2000000FFFF   ; 0x20 data, DPL 3, flat
        dq 0x0000890000000067   ; 0x28 32-bit TSS, available, limit 103; base at run time
%endmacro
SEL_CODE3       equ 0x18 | 3
SEL_DATA3       equ 0x20 | 3
SEL_TSS         equ 0x28
SVC_BACK        equ 0x83        ; DPL-3 gate: from ring 3 back to ring 0

MSR_KVM_WALL_CLOCK_NEW  equ 0x4B564D00
MSR_KVM_SYSTEM_TIME_NEW equ 0x4B564D01
KVM_ENOSYS              equ 1000
KVM_EPERM               equ 1

%include "common.inc"
%include "idt.inc"
%include "expect.inc"

main:
        call idt_init
        call expect_install
        mov eax, 1
        cpuid
        test ecx, 1 << 31
        jnz .hypervisor
        PRINTLN "hypervisor: none"
        EXPECT 6, NOERR, .vmcall, .vmcall_done, 1, "VMCALL without a hypervisor: #UD"
.vmcall:
        vmcall
.vmcall_done:
        EXPECT_DONE
        EXPECT 6, NOERR, .vmmcall, .vmmcall_done, 1, "VMMCALL without a hypervisor: #UD"
.vmmcall:
        vmmcall
.vmmcall_done:
        EXPECT_DONE
        xor eax, eax
        ret

.hypervisor:
        mov eax, 0x40000000
        cpuid
        cmp ebx, 'KVMK'
        jne .other
        cmp ecx, 'VMKV'
        jne .other
        cmp edx, 'M'
        jne .other
        PRINTLN "hypervisor: KVM"
        cmp eax, 0x40000001
        jae .leaves_ok
        mov edx, 0x40000001
        mov esi, str_max_leaf
        mov cl, 1
        jmp check_failed
.leaves_ok:
        mov eax, 0x40000001
        cpuid
        and eax, (1 << 3) | (1 << 24)
        CHECK_EQ eax, (1 << 3) | (1 << 24), 1, "KVM features CLOCKSOURCE2 and CLOCKSOURCE_STABLE_BIT"
        OK "CPUID 40000000H-40000001H"

        ; 2. Hypercalls at CPL 0.
        mov eax, 0xDEAD
        mov ebx, 0x11111111
        mov ecx, 0x22222222
        mov edx, 0x33333333
        mov esi, 0x44444444
        mov edi, 0x55555555
        vmcall
        CHECK_EQ eax, -KVM_ENOSYS, 2, "VMCALL with an unknown number"
        CHECK_EQ ebx, 0x11111111, 2, "EBX after VMCALL"
        CHECK_EQ ecx, 0x22222222, 2, "ECX after VMCALL"
        CHECK_EQ edx, 0x33333333, 2, "EDX after VMCALL"
        CHECK_EQ esi, 0x44444444, 2, "ESI after VMCALL"
        CHECK_EQ edi, 0x55555555, 2, "EDI after VMCALL"
        mov eax, 1
        vmcall
        CHECK_EQ eax, 0, 2, "KVM_HC_VAPIC_POLL_IRQ"
        mov eax, 11
        xor ebx, ebx
        vmmcall
        CHECK_EQ eax, 0, 2, "KVM_HC_SCHED_YIELD by VMMCALL"
        OK "hypercalls: ENOSYS, VAPIC_POLL_IRQ, SCHED_YIELD"

        ; 3. A hypercall from ring 3: the TSS gives the ring-0 stack for the
        ; way back through the DPL-3 gate SVC_BACK (its own: main's stack
        ; must survive).
        mov dword [tss + 4], kstack_top
        mov dword [tss + 8], SEL_DATA0
        mov word [tss + 102], 104
        mov eax, tss
        mov edi, gdt + SEL_TSS
        mov [edi + 2], ax
        shr eax, 16
        mov [edi + 4], al
        mov [edi + 7], ah
        mov ax, SEL_TSS
        ltr ax
        SET_HOOK SVC_BACK, back_to_ring0
        SET_GATE_TYPE SVC_BACK, GATE_INT3
        mov [main_esp], esp
        push dword SEL_DATA3
        push dword user_stack_top
        push dword 0x00000002       ; EFLAGS: IF 0
        push dword SEL_CODE3
        push dword .ring3
        iretd
.ring3:
        mov ax, SEL_DATA3
        mov ds, ax
        mov es, ax
        mov eax, 1                  ; KVM_HC_VAPIC_POLL_IRQ: harmless, were it allowed
        vmcall
        mov [r3_result], eax
        int SVC_BACK
.ring0:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        CHECK_EQ [r3_result], -KVM_EPERM, 3, "VMCALL at CPL 3"
        OK "hypercall at CPL 3: EPERM"

        ; 4. The wall clock.
        mov ecx, MSR_KVM_WALL_CLOCK_NEW
        mov eax, wall_clock
        xor edx, edx
        wrmsr
        mov eax, [wall_clock]
        test eax, 1
        jz .wall_even
        mov esi, str_wall_version
        mov cl, 4
        jmp check_failed
.wall_even:
        test eax, eax
        jnz .wall_set
        mov esi, str_wall_version
        mov edx, 2
        mov cl, 4
        jmp check_failed
.wall_set:
        mov eax, [wall_clock + 4]
        cmp eax, 1577836800         ; 2020-01-01
        ja .wall_ok
        mov edx, 1577836800
        mov esi, str_wall_sec
        mov cl, 4
        jmp check_failed
.wall_ok:
        OK "MSR_KVM_WALL_CLOCK_NEW"

        ; 5. kvm-clock.
        mov ecx, MSR_KVM_SYSTEM_TIME_NEW
        mov eax, pvti + 1           ; enable
        xor edx, edx
        wrmsr
        rdmsr
        CHECK_EQ eax, pvti + 1, 5, "RDMSR MSR_KVM_SYSTEM_TIME_NEW (low)"
        CHECK_EQ edx, 0, 5, "RDMSR MSR_KVM_SYSTEM_TIME_NEW (high)"
        mov eax, [pvti]
        and eax, 1
        CHECK_EQ eax, 0, 5, "pvclock version even"
        mov eax, [pvti]
        test eax, eax
        jnz .version_set
        mov esi, str_pvti_version
        mov edx, 2
        mov cl, 5
        jmp check_failed
.version_set:
        movzx eax, byte [pvti + 29]
        and eax, 1
        CHECK_EQ eax, 1, 5, "PVCLOCK_TSC_STABLE_BIT"
        mov eax, [pvti + 24]
        test eax, eax
        jnz .mul_set
        mov esi, str_pvti_mul
        mov edx, 0x80000000
        mov cl, 5
        jmp check_failed
.mul_set:
        call read_kvmclock
        mov [t1], eax
        mov [t1 + 4], edx
        ; t1 >= system_time
        cmp edx, [pvti + 20]
        ja .t1_ok
        jb .t1_bad
        cmp eax, [pvti + 16]
        jae .t1_ok
.t1_bad:
        mov edx, [pvti + 16]
        mov esi, str_t1
        mov cl, 5
        jmp check_failed
.t1_ok:
        mov ecx, 1000
.spin:  loop .spin
        call read_kvmclock
        mov [t2], eax
        mov [t2 + 4], edx
        cmp edx, [t1 + 4]
        ja .t2_ok
        jb .t2_bad
        cmp eax, [t1]
        ja .t2_ok
.t2_bad:
        mov edx, [t1]
        mov esi, str_t2
        mov cl, 5
        jmp check_failed
.t2_ok:
        PRINT "kvm-clock: "
        mov eax, [t2]
        sub eax, [t1]
        call putdec
        PRINTLN " ns between two readings"
        ; Writing IA32_TSC moves the TSC, not kvm-clock: the hypervisor
        ; updates tsc_timestamp, and the next reading is just after t2.
        mov ecx, 0x10
        xor eax, eax
        xor edx, edx
        wrmsr
        call read_kvmclock
        sub eax, [t2]
        sbb edx, [t2 + 4]
        CHECK_EQ edx, 0, 5, "kvm-clock after WRMSR IA32_TSC: reading - t2 (high)"
        test eax, eax
        jz .t3_bad
        cmp eax, 1000000000
        jb .t3_ok
.t3_bad:
        mov edx, 1
        mov esi, str_t3
        mov cl, 5
        jmp check_failed
.t3_ok:
        OK "MSR_KVM_SYSTEM_TIME_NEW"

        ; 6. Structures outside RAM.
        EXPECT 13, 0, .wr1, .wr1_done, 6, "MSR_KVM_SYSTEM_TIME_NEW at 0xFFFFF000: #GP(0)"
        mov ecx, MSR_KVM_SYSTEM_TIME_NEW
        mov eax, 0xFFFFF001
        xor edx, edx
.wr1:   wrmsr
.wr1_done:
        EXPECT_DONE
        EXPECT 13, 0, .wr2, .wr2_done, 6, "MSR_KVM_WALL_CLOCK_NEW above 4 GiB: #GP(0)"
        mov ecx, MSR_KVM_WALL_CLOCK_NEW
        mov eax, wall_clock
        mov edx, 1
.wr2:   wrmsr
.wr2_done:
        EXPECT_DONE
        xor eax, eax
        ret

.other:
        PRINTLN "hypervisor: other"
        xor eax, eax
        ret

; back_to_ring0: the SVC_BACK hook. Leaves the interrupt frame behind and
; goes on in ring 0 on the stack main was using.
back_to_ring0:
        mov esp, [main_esp]
        jmp main.ring0

; read_kvmclock: EDX:EAX = nanoseconds of kvm-clock, by the guest's formula
;   system_time + (((tsc - tsc_timestamp) << tsc_shift) * mul) >> 32
; (a right shift for a negative tsc_shift), retried while the version is odd
; or changes (Linux pvclock_read_begin/pvclock_read_retry).
read_kvmclock:
        push ebx
        push ecx
        push edi
        push ebp
.retry:
        mov edi, [pvti]
        test edi, 1
        jnz .retry
        rdtsc
        sub eax, [pvti + 8]
        sbb edx, [pvti + 12]
        mov cl, [pvti + 28]
        test cl, cl
        js .right
        shld edx, eax, cl
        shl eax, cl
        jmp .scale
.right: neg cl
        shrd eax, edx, cl
        shr edx, cl
.scale: mov ebx, [pvti + 24]
        mov ebp, edx                ; delta high
        mul ebx                     ; EDX:EAX = delta low * mul
        mov ecx, edx
        mov eax, ebp
        mul ebx                     ; EDX:EAX = delta high * mul
        add eax, ecx
        adc edx, 0
        add eax, [pvti + 16]
        adc edx, [pvti + 20]
        cmp edi, [pvti]
        jne .retry
        pop ebp
        pop edi
        pop ecx
        pop ebx
        ret

        section .data
str_max_leaf:     db "highest hypervisor leaf", 0
str_wall_version: db "pvclock_wall_clock version (even, non-zero)", 0
str_wall_sec:     db "pvclock_wall_clock seconds", 0
str_pvti_version: db "pvclock_vcpu_time_info version (non-zero)", 0
str_pvti_mul:     db "pvclock_vcpu_time_info tsc_to_system_mul", 0
str_t1:           db "kvm-clock reading (low) >= system_time (low)", 0
str_t2:           db "second kvm-clock reading (low) > first (low)", 0
str_t3:           db "kvm-clock after WRMSR IA32_TSC: reading - t2 in (0, 1 s)", 0

        section .bss
        alignb 32
pvti:           resb 32         ; struct pvclock_vcpu_time_info
wall_clock:     resb 12         ; struct pvclock_wall_clock
        alignb 8
t1:             resq 1
t2:             resq 1
main_esp:       resd 1
r3_result:      resd 1
        alignb 4
tss:            resb 104
        alignb 16
user_stack:     resb 4096
user_stack_top:
kstack:         resb 4096
kstack_top:

%include "end.inc"
