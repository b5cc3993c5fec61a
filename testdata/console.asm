; console.asm: the guest side of gemu run's console and --reboot tests.
; Prints "console guest up". If its command line (multiboot info, flags bit 2)
; holds a '!', it then resets the machine through the i8042 (command 0xFE to
; port 0x64). Otherwise it reads COM1 until a 'q' arrives, echoing each byte
; it reads, and passes (verdict 0).
%include "common.inc"

MB_INFO_CMDLINE equ 1 << 2
I8042_CMD       equ 0x64
I8042_RESET     equ 0xFE
LSR_DR          equ 0x01            ; line status: data ready

main:
        PRINTLN "console guest up"
        mov ebx, [mb_info]
        test dword [ebx], MB_INFO_CMDLINE
        jz .read
        mov esi, [ebx + 16]         ; Multiboot 0.6.96 §3.3: cmdline at offset 16
.scan:  mov al, [esi]
        inc esi
        test al, al
        jz .read
        cmp al, '!'
        jne .scan
        PRINTLN "resetting"
        mov al, I8042_RESET
        out I8042_CMD, al
.hang:  hlt
        jmp .hang

.read:  mov dx, COM1_LSR
.poll:  in al, dx
        test al, LSR_DR
        jz .poll
        mov dx, COM1
        in al, dx
        call putc
        cmp al, 'q'
        jne .read
        call newline
        xor eax, eax
        ret

%include "end.inc"
