; demo.asm: the guest gemu boots when it is given nothing else. It prints a
; greeting on COM1 and powers off the way a PC without ACPI can: CLI; HLT.
; gemu treats a halt with interrupts off as power-off (exit status 0). It does
; not use the debug-exit port, so on QEMU it just stays halted.

%define NO_LOADER_CHECKS
%include "common.inc"

main:
        PRINTLN "Hello from gemu!"
        PRINTLN ""
        PRINTLN "This is the built-in demo guest: a 32-bit multiboot kernel of a few"
        PRINTLN "hundred bytes, running on gemu's instruction interpreter. It talks to"
        PRINTLN "you through an emulated 16550 UART at I/O port 0x3F8."
        PRINTLN ""
        PRINTLN "Give gemu a kernel or a disk image to boot something else."
        PRINTLN "Powering off now (cli; hlt). Bye!"
        cli
.off:   hlt
        jmp .off

%include "end.inc"
