; testboot: a self-checking boot image for the gemu BIOS, run on QEMU by
; firmware's TestBIOSOnQEMU (qemu_test.go).
;
; Sector 0 is a boot sector; it loads sectors 1–7 (stage 2) with INT 13h
; AH=02h, unless stage 2 is already in memory (the flat-binary route, where the
; whole image sits at 0000:7C00 and there is no disk). Stage 2 exercises
; INT 10h/11h/12h/13h/15h/16h/1Ah, prints what the host must compare (E820
; entries, E801, the RTC) and exits QEMU through isa-debug-exit at port F4h:
; 10h on success (QEMU status 33), 11h on failure (35), after "FAIL <test>".
;
; The disk the host builds: this image in LBA 0–7, zeros in 8–15, and from
; LBA 16 on a pattern: dword 0 = LBA, byte j (j ≥ 4) = (LBA + j) & FFh;
; 8192 sectors (4 MiB: 8 cylinders of 16 × 63). The stdin of the serial line
; carries one 'k' for INT 16h.

bits 16
cpu 386
org 0x7C00

STAGE2_SECTORS  equ 7
DATA_LBA        equ 16
DISK_SECTORS    equ 8192
MAGIC           equ 0x21324254      ; 'TB2!'
SMAP            equ 0x534D4150
EXIT_PORT       equ 0xF4

; FAILIF cc, "name": fail the test if condition cc holds.
%macro FAILIF 2
    j%-1 %%ok
    mov si, %%msg
    jmp fail
%%msg: db %2, 0
%%ok:
%endmacro

start:
    test eax, eax
    jnz bad_entry
    test ebx, ebx
    jnz bad_entry
    test esi, esi
    jnz bad_entry
    test edi, edi
    jnz bad_entry
    cmp edx, 0x80
    jne bad_entry
    cmp sp, 0x7C00
    jne bad_entry
    mov ax, ss
    test ax, ax
    jnz bad_entry
    mov ax, ds
    test ax, ax
    jnz bad_entry
    mov ax, es
    test ax, ax
    jnz bad_entry
    pushf
    pop ax
    test ax, 0x200
    jz bad_entry
    mov si, msg_hello
    call print_str
    cmp dword [stage2_magic], MAGIC
    je .flat
    mov byte [flat_mode], 0
    mov ax, 0x0200 | STAGE2_SECTORS ; read C0 H0 S2, 7 sectors → 0000:7E00
    mov cx, 0x0002
    mov dx, 0x0080
    mov bx, 0x7E00
    int 0x13
    mov si, msg_load
    jc fail
    cmp al, STAGE2_SECTORS
    jne fail
    cmp dword [stage2_magic], MAGIC
    jne fail
    jmp stage2
.flat:
    mov byte [flat_mode], 1
    jmp stage2

bad_entry:
    mov si, msg_entry
    jmp fail

; print_str: NUL-terminated string at DS:SI (DS = 0). Keeps all.
print_str:
    pusha
.l:
    lodsb
    test al, al
    jz .d
    mov ah, 0x0E
    xor bx, bx
    int 0x10
    jmp .l
.d:
    popa
    ret

; print_hex: the low CL hex digits of EAX. Keeps all.
print_hex:
    pushad
    movzx bx, cl
    mov cl, 8
    sub cl, bl
    shl cl, 2
    shl eax, cl
    mov cx, bx
.l:
    rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'a' - '0' - 10
.d:
    mov ah, 0x0E
    xor bx, bx
    int 0x10
    pop eax
    loop .l
    popad
    ret

; print_reg: " <SI>" then the 8 hex digits of EAX.
print_reg:
    call print_str
    push cx
    mov cl, 8
    call print_hex
    pop cx
    ret

; fail: print "FAIL <name at SI>" and the registers, exit 11h.
fail:
    pushad
    mov bp, sp
    push si
    xor ax, ax
    mov ds, ax
    mov si, msg_fail
    call print_str
    pop si
    call print_str
    mov si, msg_eax
    mov eax, [bp + 28]
    call print_reg
    mov si, msg_ebx
    mov eax, [bp + 16]
    call print_reg
    mov si, msg_ecx
    mov eax, [bp + 24]
    call print_reg
    mov si, msg_edx
    mov eax, [bp + 20]
    call print_reg
    mov si, msg_crlf
    call print_str
    mov al, 0x11
    out EXIT_PORT, al
    cli
    hlt

msg_hello: db 'testboot: start', 13, 10, 0
msg_load:  db 'stage 2 load', 0
msg_entry: db 'entry registers', 0
msg_fail:  db 'FAIL ', 0
msg_eax:   db ' eax=', 0
msg_ebx:   db ' ebx=', 0
msg_ecx:   db ' ecx=', 0
msg_edx:   db ' edx=', 0
msg_crlf:  db 13, 10, 0
flat_mode: db 0

    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---------------------------------------------------------------------------
; Stage 2 (LBA 1–7, at 0000:7E00)
; ---------------------------------------------------------------------------
stage2_magic: dd MAGIC
stage2:
    xor ax, ax
    mov ds, ax
    mov es, ax
    cmp byte [flat_mode], 0
    jne common_tests

; ---- INT 13h on drive 80h -------------------------------------------------
    mov ah, 0x41
    mov bx, 0x55AA
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/41h cf"
    cmp bx, 0xAA55
    FAILIF ne, "13h/41h bx"
    test cx, 1
    FAILIF z, "13h/41h cx"

    mov ah, 0x08
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/08h cf"
    cmp dh, 15
    FAILIF ne, "13h/08h heads"
    mov al, cl
    and al, 0x3F
    cmp al, 63
    FAILIF ne, "13h/08h sectors"
    cmp ch, 7
    FAILIF ne, "13h/08h cylinders"
    test cl, 0xC0
    FAILIF nz, "13h/08h cylinders high"
    cmp dl, 1
    FAILIF ne, "13h/08h drives"

    mov ah, 0x15
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/15h cf"
    cmp ah, 3
    FAILIF ne, "13h/15h type"
    cmp cx, DISK_SECTORS >> 16
    FAILIF ne, "13h/15h cx"
    cmp dx, DISK_SECTORS & 0xFFFF
    FAILIF ne, "13h/15h dx"

    mov word [0x600], 0x1E
    mov si, 0x600
    mov ah, 0x48
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/48h cf"
    cmp word [0x600], 0x1E
    FAILIF ne, "13h/48h size"
    cmp dword [0x604], 8
    FAILIF ne, "13h/48h cylinders"
    cmp dword [0x608], 16
    FAILIF ne, "13h/48h heads"
    cmp dword [0x60C], 63
    FAILIF ne, "13h/48h sectors"
    cmp dword [0x610], DISK_SECTORS
    FAILIF ne, "13h/48h total"
    cmp dword [0x614], 0
    FAILIF ne, "13h/48h total high"
    cmp word [0x618], 512
    FAILIF ne, "13h/48h sector size"

    ; AH=42h: 130 sectors from LBA 16 to 1000:F000, across two 64 KiB lines.
    mov si, 0x700
    mov dword [si], 0x00820010      ; size 16, count 130
    mov dword [si + 4], 0x1000F000  ; 1000:F000
    mov dword [si + 8], DATA_LBA
    mov dword [si + 12], 0
    mov ah, 0x42
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/42h cf"
    cmp word [0x702], 130
    FAILIF ne, "13h/42h count"
    mov ax, 0x1F00
    mov cx, 130
    mov ebx, DATA_LBA
    call check_pattern

    ; AH=02h: C1 H2 S5 (LBA 1138), 3 sectors → 3000:0000.
    mov ax, 0x3000
    mov es, ax
    xor bx, bx
    mov ax, 0x0203
    mov cx, 0x0105
    mov dx, 0x0280
    int 0x13
    FAILIF c, "13h/02h cf"
    cmp al, 3
    FAILIF ne, "13h/02h count"
    mov ax, 0x3000
    mov cx, 3
    mov ebx, 1138
    call check_pattern

    ; AH=43h: write LBA 5000 from 4000:0000, read it back.
    mov ax, 0x4000
    mov es, ax
    xor di, di
    mov cx, 512
.fill:
    mov ax, di
    xor al, 0xA5
    stosb
    loop .fill
    mov dword [es:0], 'GEMU'
    mov si, 0x700
    mov dword [si], 0x00010010
    mov dword [si + 4], 0x40000000
    mov dword [si + 8], 5000
    mov ax, 0x4300
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/43h cf"
    cmp word [0x702], 1
    FAILIF ne, "13h/43h count"
    mov ebx, 5000
    call read_back
    FAILIF ne, "13h/43h read back"

    ; AH=03h: write LBA 5001 = C4 H15 S25, read it back.
    mov ax, 0x4000
    mov es, ax
    mov dword [es:0], 'CHS!'
    xor bx, bx
    mov ax, 0x0301
    mov cx, 0x0419
    mov dx, 0x0F80
    int 0x13
    FAILIF c, "13h/03h cf"
    cmp al, 1
    FAILIF ne, "13h/03h count"
    mov ebx, 5001
    call read_back
    FAILIF ne, "13h/03h read back"

    ; Errors: past the end, sector 0, other drives, status.
    xor ax, ax
    mov es, ax
    mov si, 0x700
    mov dword [si], 0x00010010
    mov dword [si + 4], 0x50000000
    mov dword [si + 8], DISK_SECTORS
    mov ah, 0x42
    mov dl, 0x80
    int 0x13
    FAILIF nc, "13h/42h past the end"
    cmp ah, 0x04
    FAILIF ne, "13h/42h past the end status"
    cmp word [0x702], 0
    FAILIF ne, "13h/42h past the end count"
    mov ah, 0x01
    mov dl, 0x80
    int 0x13
    FAILIF nc, "13h/01h cf"
    cmp ah, 0x04
    FAILIF ne, "13h/01h status"
    mov ah, 0x00
    mov dl, 0x80
    int 0x13
    FAILIF c, "13h/00h"
    mov ax, 0x0201
    mov cx, 0x0000
    mov dx, 0x0080
    mov bx, 0x5000
    mov es, bx
    xor bx, bx
    int 0x13
    FAILIF nc, "13h/02h sector 0"
    xor ax, ax
    mov es, ax
    mov ax, 0x0201
    mov cx, 0x0001
    mov dx, 0x0081
    mov bx, 0x0600
    int 0x13
    FAILIF nc, "13h/02h drive 81h"
    mov ah, 0x15
    mov dl, 0x81
    int 0x13
    FAILIF c, "13h/15h drive 81h cf"
    test ah, ah
    FAILIF nz, "13h/15h drive 81h type"
    jmp common_tests

; check_pattern: CX sectors at AX:0000 (a paragraph per 32) hold LBAs from EBX.
check_pattern:
    push es
.l:
    mov es, ax
    cmp [es:0], ebx
    FAILIF ne, "pattern dword"
    mov dl, bl
    add dl, 0xFF                ; (LBA + 511) & FFh
    cmp [es:511], dl
    FAILIF ne, "pattern byte"
    add ax, 32
    inc ebx
    loop .l
    pop es
    ret

; read_back: read LBA EBX to 5000:0000 with AH=42h, compare with 4000:0000. ZF=1 if equal.
read_back:
    xor ax, ax
    mov es, ax
    mov si, 0x700
    mov dword [si], 0x00010010
    mov dword [si + 4], 0x50000000
    mov [si + 8], ebx
    mov ah, 0x42
    mov dl, 0x80
    int 0x13
    FAILIF c, "read back cf"
    push ds
    mov ax, 0x4000
    mov ds, ax
    mov ax, 0x5000
    mov es, ax
    xor si, si
    xor di, di
    mov cx, 512
    repe cmpsb
    pop ds
    ret

; ---- Tests that need no disk ------------------------------------------------
common_tests:
    xor ax, ax
    mov ds, ax
    mov es, ax
    cmp byte [flat_mode], 0
    je .e820
    mov ah, 0x41                ; no disk: INT 13h fails
    mov bx, 0x55AA
    mov dl, 0x80
    int 0x13
    FAILIF nc, "13h/41h without disk"

.e820:                          ; print "e820 <base> <length> <type>" per entry
    xor ebx, ebx
    xor bp, bp
.e820next:
    mov di, 0x800
    mov dword [di + 16], 0
    mov eax, 0xE820
    mov edx, SMAP
    mov ecx, 24
    int 0x15
    FAILIF c, "15h/E820h cf"
    cmp eax, SMAP
    FAILIF ne, "15h/E820h eax"
    cmp ecx, 20
    FAILIF ne, "15h/E820h ecx"
    cmp di, 0x800
    FAILIF ne, "15h/E820h di"
    mov si, msg_e820
    call print_str
    mov cl, 8
    mov eax, [0x804]
    call print_hex
    mov eax, [0x800]
    call print_hex
    mov si, msg_space
    call print_str
    mov eax, [0x80C]
    call print_hex
    mov eax, [0x808]
    call print_hex
    mov si, msg_space
    call print_str
    mov eax, [0x810]
    mov cl, 1
    call print_hex
    mov si, msg_crlf
    call print_str
    inc bp
    cmp bp, 16
    FAILIF a, "15h/E820h does not end"
    test ebx, ebx
    jnz .e820next
    cmp bp, 3
    FAILIF b, "15h/E820h too few"
    movzx ebx, bp               ; past the end
    mov eax, 0xE820
    mov edx, SMAP
    mov ecx, 20
    int 0x15
    FAILIF nc, "15h/E820h past the end"
    mov eax, 0xE820             ; wrong signature
    xor ebx, ebx
    mov edx, 0x12345678
    mov ecx, 20
    int 0x15
    FAILIF nc, "15h/E820h signature"

    mov ax, 0xE801              ; print "e801 AX BX CX DX"
    int 0x15
    FAILIF c, "15h/E801h cf"
    mov si, msg_e801
    call print_str
    push cx
    mov cl, 4
    call print_hex
    mov si, msg_space
    call print_str
    mov eax, ebx
    call print_hex
    call print_str
    pop ax
    call print_hex
    call print_str
    mov ax, dx
    call print_hex
    mov si, msg_crlf
    call print_str

    mov ah, 0x88                ; print "e88 AX"
    int 0x15
    FAILIF c, "15h/88h cf"
    mov si, msg_e88
    call print_str
    mov cl, 4
    call print_hex
    mov si, msg_crlf
    call print_str

    mov ax, 0x2402
    int 0x15
    FAILIF c, "15h/2402h cf"
    cmp ax, 0x0001
    FAILIF ne, "15h/2402h status"
    mov ax, 0x2401
    int 0x15
    FAILIF c, "15h/2401h cf"
    mov ax, 0x2400
    int 0x15
    FAILIF nc, "15h/2400h cf"

    mov ah, 0xC0
    int 0x15
    FAILIF c, "15h/C0h cf"
    cmp word [es:bx], 8
    FAILIF ne, "15h/C0h size"
    cmp byte [es:bx + 2], 0xFC
    FAILIF ne, "15h/C0h model"
    xor ax, ax
    mov es, ax

    mov ah, 0x99
    int 0x15
    FAILIF nc, "15h/99h cf"
    cmp ah, 0x86
    FAILIF ne, "15h/99h status"

    int 0x12
    cmp ax, 639
    FAILIF ne, "12h"
    int 0x11
    cmp ax, 0x0222
    FAILIF ne, "11h"

    mov ah, 0x0F
    int 0x10
    cmp ax, 0x5003
    FAILIF ne, "10h/0Fh"
    mov ax, 0x0E0D
    int 0x10
    mov ah, 0x03
    xor bh, bh
    int 0x10
    test dl, dl
    FAILIF nz, "10h/03h column"

    ; The timer: ticks advance (PIT → IRQ0 → INT 08h → BDA).
    xor ah, ah
    int 0x1A
    mov bx, dx
    mov cx, 100
.tick:
    hlt
    xor ah, ah
    push cx
    int 0x1A
    pop cx
    cmp dx, bx
    jne .ticked
    loop .tick
    mov si, msg_tick
    jmp fail
.ticked:
    mov ah, 0x01
    mov cx, 0x0012
    mov dx, 0x3456
    int 0x1A
    xor ah, ah
    int 0x1A
    cmp cx, 0x0012
    FAILIF ne, "1Ah/01h cx"
    sub dx, 0x3456
    cmp dx, 4
    FAILIF a, "1Ah/01h dx"
    test al, al
    FAILIF nz, "1Ah/00h midnight"

    ; INT 15h AH=86h: wait 2 ticks' worth.
    xor ah, ah
    int 0x1A
    mov bx, dx
    mov ah, 0x86
    mov cx, 0x0002
    xor dx, dx
    int 0x15
    FAILIF c, "15h/86h cf"
    xor ah, ah
    int 0x1A
    sub dx, bx
    cmp dx, 2
    FAILIF b, "15h/86h too short"

    mov ah, 0x02                ; print "rtc hh:mm:ss"
    int 0x1A
    FAILIF c, "1Ah/02h cf"
    mov si, msg_rtc
    call print_str
    mov eax, ecx
    push cx
    shr eax, 8
    mov cl, 2
    call print_hex
    mov si, msg_colon
    call print_str
    pop ax
    call print_hex
    call print_str
    mov al, dh
    call print_hex
    mov si, msg_crlf
    call print_str

    mov ah, 0x04                ; print "date ccyy-mm-dd"
    int 0x1A
    FAILIF c, "1Ah/04h cf"
    mov si, msg_date
    call print_str
    mov ax, cx
    mov cl, 4
    call print_hex
    mov si, msg_dash
    call print_str
    mov al, dh
    mov cl, 2
    call print_hex
    call print_str
    mov al, dl
    call print_hex
    mov si, msg_crlf
    call print_str

    ; INT 16h: the host sends one 'k' on the serial line.
    xor ah, ah
    int 0x16
    cmp ax, 'k'
    FAILIF ne, "16h/00h"
    mov ah, 0x01
    int 0x16
    FAILIF nz, "16h/01h"
    mov ah, 0x02
    int 0x16
    test al, al
    FAILIF nz, "16h/02h"

    mov si, msg_pass
    call print_str
    mov al, 0x10
    out EXIT_PORT, al
    cli
    hlt

msg_e820:  db 'e820 ', 0
msg_e801:  db 'e801 ', 0
msg_e88:   db 'e88 ', 0
msg_rtc:   db 'rtc ', 0
msg_date:  db 'date ', 0
msg_space: db ' ', 0
msg_colon: db ':', 0
msg_dash:  db '-', 0
msg_tick:  db '1Ah/00h: the timer does not tick', 0
msg_pass:  db 'testboot: PASS', 13, 10, 0

    times 8 * 512 - ($ - $$) db 0
