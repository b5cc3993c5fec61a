; bootsector.asm: a 512-byte real-mode boot sector for the BIOS route. The
; BIOS loads it at 0000:7C00 and jumps there with DL = the boot drive.
; It prints "boot sector ok" with INT 10h AH=0Eh (teletype), runs a few
; 16-bit checks, reads sector 1 (LBA, the second sector of bootsector.img)
; with INT 13h AH=42h and checks its pattern, then writes the verdict to the
; debug-exit port 0xF4: 0 = pass, else the failing check (1-9).
; SDM Vol. 3A §20.1 (real-address mode), Vol. 1 §3.3.6 (operand/address size
; prefixes); INT 13h extensions: Phoenix EDD 3.0 / T13 EDD.

        bits 16
        org 0x7C00

PATTERN_MUL     equ 7               ; sector 1 byte i = (i*7 + 3) & 0xFF (build.sh)
PATTERN_ADD     equ 3
BUF             equ 0x8000

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        jmp 0:.cs0                  ; CS:IP = 0000:7Cxx whatever the BIOS used
.cs0:   sti
        cld
        mov [drive], dl

; 1. REP MOVSB forward, then REPE CMPSB (SDM Vol. 2B MOVS, CMPS, REP).
        mov si, text
        mov di, BUF + 0x200
        mov cx, 8
        rep movsb
        mov si, text
        mov di, BUF + 0x200
        mov cx, 8
        repe cmpsb
        mov al, 1
        jne fail
        test cx, cx
        jnz fail

; 2. STD: REP MOVSW backward does an overlapping move up by 2 bytes.
        std
        mov si, BUF + 0x200 + 6     ; last word of the source
        mov di, BUF + 0x200 + 8
        mov cx, 4
        rep movsw
        cld
        mov al, 2
        cmp si, BUF + 0x200 - 2     ; SI, DI end one word below the start
        jne fail
        cmp word [BUF + 0x200 + 2], 'AB'
        jne fail
        cmp word [BUF + 0x200 + 8], 'GH'
        jne fail

; 3. REPNE SCASB finds 'E' in the copy.
        mov di, text
        mov al, 'E'
        mov cx, 8
        repne scasb
        mov al, 3
        jne fail
        cmp di, text + 5
        jne fail

; 4. Segment arithmetic: linear = segment*16 + offset (§20.1.1).
        mov ax, 0x1000
        mov es, ax
        mov byte [es:0x0000], 0x5A      ; linear 0x10000
        mov ax, 0x0FFF
        mov es, ax
        mov al, 4
        cmp byte [es:0x0010], 0x5A      ; the same byte
        jne fail
        xor ax, ax
        mov es, ax

; 5. Far CALL/RETF with another CS for the same code: CS=07C0, IP=offset-0x7C00.
        call 0x07C0:(farfn - 0x7C00)
        mov al, 5
        cmp bx, 0x07C0
        jne fail
        mov ax, cs
        test ax, ax
        mov al, 5
        jnz fail

; 6. PUSHA/POPA (SDM Vol. 2B PUSHA: pushes the SP from before the first push).
        mov ax, 0x1111
        mov cx, 0x2222
        mov dx, 0x3333
        mov bx, 0x4444
        mov bp, 0x5555
        mov si, 0x6666
        mov di, 0x7777
        mov [saved_sp], sp
        pusha
        mov bp, sp
        mov ax, [bp + 6]            ; the pushed SP (order: AX CX DX BX SP BP SI DI)
        mov [pushed_sp], ax
        xor ax, ax
        mov cx, ax
        mov dx, ax
        mov bx, ax
        mov bp, ax
        mov si, ax
        mov di, ax
        popa
        mov ax, [saved_sp]
        cmp ax, [pushed_sp]
        mov al, 6
        jne fail
        cmp sp, [saved_sp]
        jne fail
        cmp bp, 0x5555
        jne fail
        cmp di, 0x7777
        jne fail

; 7. 32-bit operand and address size in 16-bit code (66h, 67h prefixes).
        mov eax, 0x12345678
        add eax, 0x11111111
        mov al, 7                   ; keep the flags of a compare below
        cmp eax, 0x23456707
        jne fail
        shr eax, 16
        cmp ax, 0x2345
        jne fail
        mov ebx, text
        cmp byte [ebx + 1], 'B'     ; [ebx+disp]: 67h prefix
        jne fail

; 8. INT 13h AH=42h extended read of LBA 1 into 0000:8000.
        mov si, dap
        mov ah, 0x42
        mov dl, [drive]
        int 0x13
        mov al, 8
        jc fail
        mov si, BUF
        xor cx, cx
        mov dl, PATTERN_ADD
.chk:   lodsb
        cmp al, dl
        mov al, 9
        jne fail
        add dl, PATTERN_MUL
        inc cx
        cmp cx, 512
        jb .chk

        mov si, msg_ok
        call print
        xor al, al
        jmp exit
fail:   push ax
        add al, '0'
        mov [msg_fail + 5], al
        mov si, msg_fail
        call print
        pop ax
exit:   out 0xF4, al
.halt:  cli
        hlt
        jmp .halt

farfn:  mov bx, cs
        retf

; print: DS:SI NUL-terminated, INT 10h AH=0Eh per character.
print:  lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        jmp print
.done:  ret

text:   db "ABCDEFGH"
msg_ok: db "boot sector ok", 13, 10, 0
msg_fail: db "FAIL ?", 13, 10, 0
        align 4
dap:    db 16, 0                    ; size of the packet, reserved
        dw 1                        ; sectors
        dw BUF, 0                   ; buffer offset, segment
        dq 1                        ; LBA
drive:  db 0
saved_sp: dw 0
pushed_sp: dw 0

        times 510 - ($ - $$) db 0
        dw 0xAA55

%ifdef DISK_IMAGE
; build.sh assembles this file a second time with -DDISK_IMAGE to make
; bootsector.img: this sector, then sector 1 holding the pattern checked above.
%assign i 0
%rep 512
        db (i * PATTERN_MUL + PATTERN_ADD) & 0xFF
%assign i i + 1
%endrep
%endif
