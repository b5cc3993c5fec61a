; hello.asm: the smallest test guest. Prints "hello, world" on COM1 and exits
; with verdict 0 through the debug-exit port.
%include "common.inc"

main:
        PRINTLN "hello, world"
        xor eax, eax
        ret

%include "end.inc"
