; pit.asm: the 8259A PIC pair and the 8254 PIT.
;   - initialise both PICs (ICW1-ICW4), IRQ 0-15 -> vectors 0x20-0x2F
;   - PIT channel 0 in mode 2 (rate generator) at ~1000 Hz
;   - an IRQ0 handler that counts and sends a non-specific EOI
;   - STI; HLT until 50 ticks; check the count
;   - the counter latch command reads a changing count in [1, divisor]
;   - masking IRQ0 in OCW1 stops the ticks while time passes, unmasking resumes them
; Intel 8259A datasheet (ICW/OCW formats), Intel 8254 datasheet (control word,
; mode 2, counter latch). Verdict: 0 = pass, else the failing check (below).

%include "common.inc"
%include "idt.inc"

PIC1_CMD        equ 0x20
PIC1_DATA       equ 0x21
PIC2_CMD        equ 0xA0
PIC2_DATA       equ 0xA1
PIT_CH0         equ 0x40
PIT_CMD         equ 0x43
PIT_HZ          equ 1193182
DIVISOR         equ 1193            ; 1193182 / 1193 = 1000.15 Hz
TICKS           equ 50
IRQ0_VEC        equ 0x20

main:
        call idt_init
        SET_HOOK IRQ0_VEC, irq0_hook
        call pic_init
        call pit_init
        OK "PIC and PIT programmed"

; 1. Counter latch (8254 datasheet "Counter Latch Command"): control word
; 00 00 xxxx latches channel 0; the next two reads of port 0x40 give LSB, MSB.
; In mode 2 the count runs from DIVISOR down to 1 and reloads.
        call pit_read
        mov ebx, eax
        cmp eax, 1
        jb .bad_range
        cmp eax, DIVISOR
        ja .bad_range
        mov ecx, 1000000
.change:
        call pit_read
        cmp eax, ebx
        jne .changed
        loop .change
        FAIL 1, "PIT channel 0 count never changes"
.bad_range:
        mov edx, DIVISOR
        mov esi, str_range
        mov cl, 1
        jmp check_failed
.changed:
        OK "PIT latched count is in range and changes"

; 2. 50 interrupts with STI; HLT. STI delays interrupts by one instruction
; (SDM Vol. 2B STI), so no tick can slip between the check and the HLT.
        mov dword [ticks], 0
.wait:  sti
        hlt
        cli
        cmp dword [ticks], TICKS
        jb .wait
        mov eax, [ticks]
        cmp eax, TICKS + 1          ; one more may land between HLT's wake-up and CLI
        jbe .count_ok
        mov edx, TICKS
        mov esi, str_count
        mov cl, 2
        jmp check_failed
.count_ok:
        OK "50 IRQ0 ticks counted with STI/HLT"

; 3. Masking (8259A OCW1): with IRQ0 masked and IF=1, no tick is counted
; while the PIT wraps at least 5 times (5 ms), measured with the latch.
        mov al, 0xFF
        out PIC1_DATA, al
        sti
        mov edi, [ticks]
        call wait_wraps
        cli
        CHECK_EQ [ticks], edi, 3, "ticks while IRQ0 masked"
        OK "masked IRQ0 stays quiet"

; 4. Unmask: ticks resume.
        mov al, 0xFE
        out PIC1_DATA, al
        mov edi, [ticks]
        add edi, 3
.more:  sti
        hlt
        cli
        cmp [ticks], edi
        jb .more
        OK "unmasked IRQ0 ticks again"
        xor eax, eax
        ret

; wait_wraps: return after the channel 0 count has reloaded 5 times
; (a read larger than the previous one means it passed 1 and reloaded).
wait_wraps:
        pushad
        xor ecx, ecx
        call pit_read
        mov ebx, eax
.next:  call pit_read
        cmp eax, ebx
        mov ebx, eax
        jbe .next
        inc ecx
        cmp ecx, 5
        jb .next
        popad
        ret

; pic_init: ICW1 (edge, cascade, ICW4 needed), ICW2 (vector base), ICW3
; (slave on IRQ2 / slave id 2), ICW4 (8086 mode); then OCW1: only IRQ0 open.
pic_init:
        mov al, 0x11
        out PIC1_CMD, al
        out PIC2_CMD, al
        mov al, 0x20
        out PIC1_DATA, al
        mov al, 0x28
        out PIC2_DATA, al
        mov al, 0x04
        out PIC1_DATA, al
        mov al, 0x02
        out PIC2_DATA, al
        mov al, 0x01
        out PIC1_DATA, al
        out PIC2_DATA, al
        mov al, 0xFE
        out PIC1_DATA, al
        mov al, 0xFF
        out PIC2_DATA, al
        ret

; pit_init: channel 0, access LSB then MSB, mode 2, binary (control 0x34).
pit_init:
        mov al, 0x34
        out PIT_CMD, al
        mov al, DIVISOR & 0xFF
        out PIT_CH0, al
        mov al, DIVISOR >> 8
        out PIT_CH0, al
        ret

; pit_read: EAX = channel 0's latched count. Preserves other registers.
pit_read:
        mov al, 0x00                ; counter latch command, channel 0
        out PIT_CMD, al
        in al, PIT_CH0
        mov ah, al
        in al, PIT_CH0
        xchg al, ah
        movzx eax, ax
        ret

; irq0_hook: count, then a non-specific EOI (OCW2 0x20) to the master PIC.
irq0_hook:
        inc dword [ticks]
        mov al, 0x20
        out PIC1_CMD, al
        ret

        section .data
str_range: db "PIT latched count out of [1, divisor]", 0
str_count: db "IRQ0 ticks after the wait (want 50 or 51)", 0
        section .bss
ticks:  resd 1
        section .text

%include "end.inc"
