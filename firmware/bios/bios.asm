; gemu built-in BIOS: a 64 KiB real-mode ROM for 0xF0000–0xFFFFF.
;
; It reaches the machine through port I/O: 8259 PICs, 8254 PIT, 8250 UART at
; 0x3F8, CMOS RTC at 0x70/0x71, ATA disk on the primary IDE channel; and, only
; if CPUID reports one, the local APIC's LVT (see apic_virtual_wire).
; Interrupt services follow Ralf Brown's Interrupt List (RBIL); the memory map
; (INT 15h E820h) follows ACPI 6.x §15; the disk follows ATA/ATAPI-6 PIO.
;
; Writable state lives in the BDA (0x400) and the EBDA (0x9FC00): the image
; itself may be read-only (QEMU maps -bios as ROM), so nothing here is written.
;
; Build: ./build.sh (nasm -f bin).

bits 16
cpu 386
org 0                           ; CS = F000h, offsets are ROM offsets

; ---------------------------------------------------------------------------
; Constants
; ---------------------------------------------------------------------------
BDA_COM1        equ 0x400       ; RBIL MEMORY.LST: BIOS data area
BDA_EBDA_SEG    equ 0x40E
BDA_EQUIPMENT   equ 0x410
BDA_BASEMEM     equ 0x413
BDA_SHIFT       equ 0x417
BDA_KBD_HEAD    equ 0x41A
BDA_KBD_TAIL    equ 0x41C
KBD_BUF_START   equ 0x1E        ; ring offsets relative to segment 40h
KBD_BUF_END     equ 0x3E
BDA_VIDEO_MODE  equ 0x449
BDA_VIDEO_COLS  equ 0x44A
BDA_CURSOR      equ 0x450       ; page 0 column, row
BDA_CRTC_BASE   equ 0x463
BDA_TICKS       equ 0x46C
BDA_MIDNIGHT    equ 0x470
BDA_DISK_STATUS equ 0x474
BDA_NUM_DISKS   equ 0x475
BDA_KBD_START   equ 0x480
BDA_KBD_END     equ 0x482
BDA_VIDEO_ROWS  equ 0x484

EBDA_SEG        equ 0x9FC0      ; 1 KiB below 640 KiB (E820 reserved)
EBDA_DISK       equ 0x20        ; byte: 1 if the ATA disk answered IDENTIFY
EBDA_SECTORS    equ 0x24        ; dword: LBA28 sectors (IDENTIFY words 60–61)
EBDA_CYLS       equ 0x28        ; word: CHS cylinders (≤ 1024)

TICKS_PER_DAY   equ 0x1800B0    ; RBIL INT 1A/AH=00h

COM1            equ 0x3F8
UART_LSR        equ COM1 + 5
LSR_DR          equ 0x01
LSR_THRE        equ 0x20

ATA_DATA        equ 0x1F0
ATA_COUNT       equ 0x1F2
ATA_LBA0        equ 0x1F3
ATA_DRIVE       equ 0x1F6
ATA_CMD         equ 0x1F7       ; status on read
ATA_CTRL        equ 0x3F6       ; alternate status on read
ATA_READ        equ 0x20        ; READ SECTORS
ATA_WRITE       equ 0x30        ; WRITE SECTORS
ATA_FLUSH       equ 0xE7        ; FLUSH CACHE
ATA_IDENTIFY    equ 0xEC
ST_BSY          equ 0x80
ST_DF           equ 0x20
ST_DRQ          equ 0x08
ST_ERR          equ 0x01
ATA_TIMEOUT     equ 0x400000    ; status polls before giving up

HEADS           equ 16          ; fixed CHS translation: 16 heads, 63 sectors
SPT             equ 63

; INT 13h status codes (RBIL #00234)
DISK_OK         equ 0x00
DISK_BADCMD     equ 0x01
DISK_NOTFOUND   equ 0x04
DISK_CTRLFAIL   equ 0x20
DISK_TIMEOUT    equ 0x80
DISK_WRFAULT    equ 0xCC

SMAP            equ 0x534D4150  ; 'SMAP'

; ---------------------------------------------------------------------------
; Configuration block at F000:0000 (physical 0xF0000), patched by the Go side
; (firmware.InstallBIOS). The offsets are part of the Go/asm contract.
; ---------------------------------------------------------------------------
cfg_sig:        db 'GEMU'       ; +0  signature
cfg_version:    dw 1            ; +4  layout version
cfg_flags:      dw 0            ; +6  bit 0: skip the disk, enter 0000:7C00
cfg_memsize:    dq 0            ; +8  RAM size in bytes
cfg_e820_count: dw 0            ; +16 entries in cfg_e820
                dw 0            ; +18 reserved
cfg_e820:       times 16*20 db 0 ; +20 E820 entries: base u64, length u64, type u32
CFG_FLAG_FLAT   equ 1

; INT 15h/AH=C0h system configuration table (RBIL #00509).
sys_config:
    dw 8                        ; bytes that follow
    db 0xFC                     ; model: AT
    db 0x00                     ; submodel
    db 0x01                     ; BIOS revision
    db 0x64                     ; cascaded 8259, RTC, EBDA allocated
    db 0, 0, 0, 0

msg_banner:     db 'gemu BIOS', 13, 10, 0
msg_nodisk:     db 'gemu BIOS: no boot disk', 13, 10, 0
msg_notboot:    db 'gemu BIOS: disk is not bootable', 13, 10, 0
msg_readerr:    db 'gemu BIOS: disk read error', 13, 10, 0
msg_int18:      db 'No bootable disk', 13, 10, 0

; Vectors with a service, set after the defaults (vector, handler).
vec_table:
    db 0x08
    dw int08
    db 0x10
    dw int10
    db 0x11
    dw int11
    db 0x12
    dw int12
    db 0x13
    dw int13
    db 0x15
    dw int15
    db 0x16
    dw int16
    db 0x18
    dw int18
    db 0x19
    dw int19
    db 0x1A
    dw int1a
VEC_COUNT equ ($ - vec_table) / 3

; ---------------------------------------------------------------------------
; Power-on self test
; ---------------------------------------------------------------------------
post:
    cli
    cld
    xor ax, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ds, ax
    mov es, ax

    ; IVT: every vector → iret; IRQ 0–7 → 08h–0Fh, IRQ 8–15 → 70h–77h with EOI.
    xor di, di
    mov cx, 256
.ivt:
    mov ax, int_default
    stosw
    mov ax, 0xF000
    stosw
    loop .ivt
    mov di, 0x08 * 4
    mov bx, irq_master
    call set_8_vectors
    mov di, 0x70 * 4
    mov bx, irq_slave
    call set_8_vectors
    mov si, vec_table
    mov cx, VEC_COUNT
.svc:
    movzx di, byte [cs:si]
    shl di, 2
    mov ax, [cs:si + 1]
    mov [di], ax
    mov word [di + 2], 0xF000
    add si, 3
    loop .svc

    ; BDA (RBIL MEMORY.LST).
    mov di, 0x400
    mov cx, 0x80
    xor ax, ax
    rep stosw
    mov word [BDA_COM1], COM1
    mov word [BDA_EBDA_SEG], EBDA_SEG
    mov word [BDA_EQUIPMENT], 0x0222 ; 1 serial port, 80x25 colour, x87
    mov word [BDA_BASEMEM], 639
    mov word [BDA_KBD_HEAD], KBD_BUF_START
    mov word [BDA_KBD_TAIL], KBD_BUF_START
    mov word [BDA_KBD_START], KBD_BUF_START
    mov word [BDA_KBD_END], KBD_BUF_END
    mov byte [BDA_VIDEO_MODE], 3
    mov word [BDA_VIDEO_COLS], 80
    mov byte [BDA_VIDEO_ROWS], 24
    mov word [BDA_CRTC_BASE], 0x3D4

    ; EBDA: 1 KiB, its size in KiB in the first byte.
    push EBDA_SEG
    pop es
    xor di, di
    mov cx, 512
    rep stosw
    mov byte [es:0], 1

    ; 8259 PICs: ICW1 edge + ICW4, ICW2 vectors 08h/70h, ICW3 cascade on
    ; IRQ2, ICW4 8086 mode (Intel 8259A datasheet); mask all but IRQ0, IRQ2.
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x08
    out 0x21, al
    mov al, 0x70
    out 0xA1, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01
    out 0x21, al
    out 0xA1, al
    mov al, 0xFA
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    call apic_virtual_wire

    ; 8254 PIT channel 0: lobyte/hibyte, mode 3, divisor 0 (65536) → 18.2 Hz.
    mov al, 0x36
    out 0x43, al
    xor al, al
    out 0x40, al
    out 0x40, al

    ; 8250 UART: no interrupts, 115200 baud (divisor 1), 8N1, FIFO on, DTR+RTS.
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al

    mov si, msg_banner
    call puts

    call ata_detect
    sti

    test byte [cs:cfg_flags], CFG_FLAG_FLAT
    jnz boot_7c00
    int 0x19
    jmp halt

; apic_virtual_wire: if CPUID reports a local APIC, put it in virtual-wire
; mode (Intel MP Spec 1.4 §3.6.2.2; SDM Vol. 3A §10.5.1): software-enabled,
; LINT0 = ExtINT, LINT1 = NMI, so that the 8259's INTR reaches the CPU (an
; APIC comes out of reset with its LVT masked). The APIC is MMIO at
; FEE00000h, reached from real mode through FS with a 4 GiB limit ("unreal
; mode", SDM Vol. 3A §9.9.2). Interrupts are off.
APIC_BASE       equ 0xFEE00000
APIC_SVR        equ 0xF0
APIC_LINT0      equ 0x350
APIC_LINT1      equ 0x360
apic_virtual_wire:
    pushfd                      ; CPUID exists if EFLAGS.ID toggles (SDM Vol. 2A CPUID)
    pop eax
    mov ecx, eax
    xor eax, 1 << 21
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    xor eax, ecx
    test eax, 1 << 21
    jz .done
    mov eax, 1
    cpu 586
    cpuid
    cpu 386
    test edx, 1 << 9            ; CPUID.01h:EDX.APIC
    jz .done
    lgdt [cs:unreal_gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, 0x08
    mov fs, bx
    and al, 0xFE
    mov cr0, eax
    xor bx, bx
    mov fs, bx                  ; base 0, the 4 GiB limit stays
    mov edi, APIC_BASE
    mov eax, [fs:edi + APIC_SVR]
    or ah, 0x01                 ; APIC software enable
    mov [fs:edi + APIC_SVR], eax
    mov eax, [fs:edi + APIC_LINT0]
    and eax, 0xFFFE00FF         ; unmask, clear the delivery mode
    or ah, 0x07                 ; ExtINT
    mov [fs:edi + APIC_LINT0], eax
    mov eax, [fs:edi + APIC_LINT1]
    and eax, 0xFFFE00FF
    or ah, 0x04                 ; NMI
    mov [fs:edi + APIC_LINT1], eax
.done:
    ret

; GDT for unreal mode: one flat 4 GiB data segment at 08h (accessed already,
; so the CPU never writes to the ROM).
    align 8
unreal_gdt:
    dq 0
    dq 0x00CF93000000FFFF
unreal_gdt_desc:
    dw 15
    dd 0xF0000 + unreal_gdt

; set_8_vectors: 8 IVT entries from DI (DS=0) → F000:BX.
set_8_vectors:
    mov cx, 8
.l:
    mov [di], bx
    mov word [di + 2], 0xF000
    add di, 4
    loop .l
    ret

; halt stops the machine: interrupts off, HLT forever.
halt:
    cli
    hlt
    jmp halt

; boot_7c00 enters the boot image at 0000:7C00 the way a PC BIOS does:
; DL = boot drive 80h, SS:SP = 0000:7C00, other registers 0, IF = 1.
boot_7c00:
    cli
    xor ax, ax
    mov ss, ax
    mov esp, 0x7C00
    push dword 0x202
    popfd
    xor eax, eax
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    xor ebx, ebx
    xor ecx, ecx
    mov edx, 0x80
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    jmp 0x0000:0x7C00

; ---------------------------------------------------------------------------
; Console: the UART
; ---------------------------------------------------------------------------

; uart_putc writes AL to COM1 once THRE is set (bounded wait). Keeps all.
uart_putc:
    push dx
    push cx
    push ax
    mov dx, UART_LSR
    mov cx, 0xFFFF
.wait:
    in al, dx
    test al, LSR_THRE
    jnz .send
    loop .wait
.send:
    pop ax
    mov dx, COM1
    out dx, al
    pop cx
    pop dx
    ret

; puts writes the NUL-terminated string at CS:SI. Keeps all.
puts:
    push ax
    push si
.l:
    mov al, [cs:si]
    inc si
    test al, al
    jz .d
    call uart_putc
    jmp .l
.d:
    pop si
    pop ax
    ret

; ---------------------------------------------------------------------------
; Default and hardware interrupt handlers
; ---------------------------------------------------------------------------
int_default:
    iret

irq_master:                     ; IRQ 0–7: non-specific EOI to the master
    push ax
    mov al, 0x20
    out 0x20, al
    pop ax
    iret

irq_slave:                      ; IRQ 8–15: EOI to the slave, then the master
    push ax
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop ax
    iret

; INT 08h (IRQ0): timer tick count and midnight flag (RBIL INT 08), then 1Ch.
int08:
    push ds
    push ax
    push 0
    pop ds
    inc dword [BDA_TICKS]
    cmp dword [BDA_TICKS], TICKS_PER_DAY
    jb .1
    mov dword [BDA_TICKS], 0
    mov byte [BDA_MIDNIGHT], 1
.1:
    int 0x1C
    mov al, 0x20
    out 0x20, al
    pop ax
    pop ds
    iret

; ---------------------------------------------------------------------------
; INT 10h: video, on the serial line (RBIL INT 10)
; ---------------------------------------------------------------------------
int10:
    cmp ah, 0x0E
    je .tty
    cmp ah, 0x0F
    je .getmode
    cmp ah, 0x00
    je .setmode
    cmp ah, 0x02
    je .setcur
    cmp ah, 0x03
    je .getcur
    cmp ah, 0x13
    je .string
    iret                        ; 01h and the rest: nothing to do
.tty:                           ; AH=0Eh teletype output: AL to the UART
    call uart_putc
    push ds
    push 0
    pop ds
    cmp al, 0x0D
    je .cr
    cmp al, 0x0A
    je .lf
    cmp al, 0x08
    je .bs
    cmp al, 0x07
    je .ttydone
    inc byte [BDA_CURSOR]
    cmp byte [BDA_CURSOR], 80
    jb .ttydone
    mov byte [BDA_CURSOR], 0
.lf:
    cmp byte [BDA_CURSOR + 1], 24
    jae .ttydone
    inc byte [BDA_CURSOR + 1]
    jmp .ttydone
.cr:
    mov byte [BDA_CURSOR], 0
    jmp .ttydone
.bs:
    cmp byte [BDA_CURSOR], 0
    je .ttydone
    dec byte [BDA_CURSOR]
.ttydone:
    pop ds
    iret
.getmode:                       ; AH=0Fh: AL = mode 3, AH = 80 columns, BH = page 0
    mov ax, 0x5003
    xor bh, bh
    iret
.setmode:                       ; AH=00h: AL = 30h (RBIL: modes 0–5 and 7)
    mov al, 0x30
    iret
.setcur:                        ; AH=02h: DH row, DL column, page BH
    cmp bh, 8
    jae .r
    push ds
    push bx
    push 0
    pop ds
    movzx bx, bh
    shl bx, 1
    mov [BDA_CURSOR + bx], dx
    pop bx
    pop ds
.r:
    iret
.getcur:                        ; AH=03h: CX shape, DH row, DL column
    mov cx, 0x0607
    xor dx, dx
    cmp bh, 8
    jae .r
    push ds
    push bx
    push 0
    pop ds
    movzx bx, bh
    shl bx, 1
    mov dx, [BDA_CURSOR + bx]
    pop bx
    pop ds
    iret
.string:                        ; AH=13h: CX chars at ES:BP (AL bit 1: with attributes)
    push ax
    push bx
    push cx
    push bp
    mov bl, al
    jcxz .sdone
.sl:
    mov al, [es:bp]
    mov ah, 0x0E
    int 0x10
    inc bp
    test bl, 2
    jz .sn
    inc bp
.sn:
    loop .sl
.sdone:
    pop bp
    pop cx
    pop bx
    pop ax
    iret

; INT 11h: equipment word. INT 12h: base memory in KiB.
int11:
    push ds
    push 0
    pop ds
    mov ax, [BDA_EQUIPMENT]
    pop ds
    iret

int12:
    push ds
    push 0
    pop ds
    mov ax, [BDA_BASEMEM]
    pop ds
    iret

; ---------------------------------------------------------------------------
; Service frame shared by INT 13h and INT 15h: after "push ds, push es,
; pushad; mov bp, sp" the caller's registers are at SS:BP.
; ---------------------------------------------------------------------------
%define F_EDI   bp+0
%define F_DI    bp+0
%define F_SI    bp+4
%define F_EBX   bp+16
%define F_BX    bp+16
%define F_DX    bp+20
%define F_DL    bp+20
%define F_DH    bp+21
%define F_ECX   bp+24
%define F_CX    bp+24
%define F_CL    bp+24
%define F_CH    bp+25
%define F_EAX   bp+28
%define F_AX    bp+28
%define F_AL    bp+28
%define F_AH    bp+29
%define F_ES    bp+32
%define F_DS    bp+34
%define F_FLAGS bp+40

%macro ENTER_FRAME 0
    push ds
    push es
    pushad
    mov bp, sp
    cld
%endmacro

svc_cf0:                        ; return with CF=0
    and byte [F_FLAGS], 0xFE
    jmp svc_out
svc_cf1:                        ; return with CF=1
    or byte [F_FLAGS], 1
svc_out:
    popad
    pop es
    pop ds
    iret

; ---------------------------------------------------------------------------
; INT 13h: the primary-master ATA disk as drive 80h (RBIL INT 13)
; ---------------------------------------------------------------------------
int13:
    sti
    ENTER_FRAME
    push EBDA_SEG
    pop ds
    cmp dl, 0x80
    jne .nodrive
    cmp byte [EBDA_DISK], 0
    je .nodrive
    cmp ah, 0x00                ; reset
    je .ok
    cmp ah, 0x01
    je .status
    cmp ah, 0x02
    je .rw_chs
    cmp ah, 0x03
    je .rw_chs
    cmp ah, 0x08
    je .params
    cmp ah, 0x0C                ; seek
    je .ok
    cmp ah, 0x0D                ; alternate reset
    je .ok
    cmp ah, 0x10                ; test drive ready
    je .ok
    cmp ah, 0x11                ; recalibrate
    je .ok
    cmp ah, 0x15
    je .disktype
    cmp ah, 0x41
    je .extcheck
    cmp ah, 0x42
    je .ext_rw
    cmp ah, 0x43
    je .ext_rw
    cmp ah, 0x44                ; extended verify
    je .ok
    cmp ah, 0x47                ; extended seek
    je .ok
    cmp ah, 0x48
    je .extparams
.badcmd:
    mov ah, DISK_BADCMD
    jmp .done
.nodrive:
    cmp ah, 0x15                ; AH=15h: AH=00h "no such drive", CF=0
    jne .badcmd
    mov byte [F_AH], 0
    jmp svc_cf0
.notfound:
    mov ah, DISK_NOTFOUND
    jmp .done
.ok:
    xor ah, ah
.done:                          ; AH = status: to the caller and BDA 0x474
    mov [F_AH], ah
    push 0
    pop ds
    mov [BDA_DISK_STATUS], ah
    test ah, ah
    jz svc_cf0
    jmp svc_cf1

.status:                        ; AH=01h: AH = last status
    push 0
    pop ds
    mov ah, [BDA_DISK_STATUS]
    mov [F_AH], ah
    test ah, ah
    jz svc_cf0
    jmp svc_cf1

.rw_chs:                        ; AH=02h/03h: AL sectors at CHS (CH, CL, DH) ↔ ES:BX
    mov bl, ATA_READ
    cmp ah, 0x03
    jne .c1
    mov bl, ATA_WRITE
.c1:
    mov byte [F_AL], 0
    movzx si, al                ; count
    test si, si
    jz .badcmd
    movzx edi, cl
    and di, 0x3F                ; sector, 1-based
    jz .notfound
    dec di
    movzx eax, cl
    shl ax, 2
    and ax, 0x300
    mov al, ch                  ; cylinder = CL[7:6]:CH
    cmp ax, [EBDA_CYLS]
    jae .notfound
    cmp dh, HEADS
    jae .notfound
    shl eax, 4
    movzx edx, dh
    add eax, edx
    imul eax, eax, SPT
    add eax, edi                ; LBA = (C × 16 + H) × 63 + S − 1
    mov edx, [EBDA_SECTORS]
    cmp eax, edx
    jae .notfound
    sub edx, eax
    movzx ecx, si
    cmp ecx, edx
    ja .notfound
    mov di, [F_BX]              ; ES is still the caller's
    call ata_rw
    mov [F_AL], cl
    jmp .done

.params:                        ; AH=08h: highest C/H/S and drive count
    mov ax, [EBDA_CYLS]
    dec ax
    mov [F_CH], al
    shl ah, 6
    or ah, SPT
    mov [F_CL], ah
    mov byte [F_DH], HEADS - 1
    mov byte [F_DL], 1
    mov byte [F_AL], 0
    jmp .ok

.disktype:                      ; AH=15h: AH=03h fixed disk, CX:DX sectors
    mov byte [F_AH], 3
    mov ax, [EBDA_SECTORS]
    mov [F_DX], ax
    mov ax, [EBDA_SECTORS + 2]
    mov [F_CX], ax
    jmp svc_cf0

.extcheck:                      ; AH=41h: BX=55AAh → AA55h, EDD 1.1, CX bit 0
    cmp bx, 0x55AA
    jne .badcmd
    mov word [F_BX], 0xAA55
    mov byte [F_AH], 0x21
    mov word [F_CX], 0x0001
    jmp svc_cf0

.ext_rw:                        ; AH=42h/43h: disk address packet at DS:SI
    mov bl, ATA_READ
    cmp ah, 0x43
    jne .e1
    mov bl, ATA_WRITE
.e1:
    mov es, [F_DS]
    cmp byte [es:si], 0x10      ; packet size
    jb .badcmd
    cmp dword [es:si + 4], 0xFFFFFFFF ; EDD 3.0 64-bit flat buffer: unsupported
    je .badcmd
    cmp dword [es:si + 12], 0
    jne .ext_range
    mov eax, [es:si + 8]
    mov edx, [EBDA_SECTORS]
    cmp eax, edx
    ja .ext_range
    sub edx, eax
    movzx ecx, word [es:si + 2]
    cmp ecx, edx
    ja .ext_range
    push es
    push si
    les di, [es:si + 4]
    call ata_rw
    pop si
    pop es
    mov [es:si + 2], cx         ; blocks transferred
    jmp .done
.ext_range:
    mov word [es:si + 2], 0
    jmp .notfound

.extparams:                     ; AH=48h: drive parameters at DS:SI
    mov es, [F_DS]
    mov ax, [es:si]
    cmp ax, 0x1A
    jb .badcmd
    mov cx, 0x1A
    cmp ax, 0x1E
    jb .p1
    mov cx, 0x1E
    mov dword [es:si + 0x1A], 0xFFFFFFFF ; no device parameter table
.p1:
    mov [es:si], cx
    mov word [es:si + 2], 0x0002 ; CHS information is valid
    movzx eax, word [EBDA_CYLS]
    mov [es:si + 4], eax
    mov dword [es:si + 8], HEADS
    mov dword [es:si + 12], SPT
    mov eax, [EBDA_SECTORS]
    mov [es:si + 16], eax
    mov dword [es:si + 20], 0
    mov word [es:si + 24], 512
    jmp .ok

; ---------------------------------------------------------------------------
; ATA PIO (ATA/ATAPI-6 §9.7 PIO data-in, §9.8 PIO data-out), LBA28
; ---------------------------------------------------------------------------

; ata_delay: ~400 ns after a command, by reading the alternate status 4 times.
ata_delay:
    push ax
    push dx
    mov dx, ATA_CTRL
    in al, dx
    in al, dx
    in al, dx
    in al, dx
    pop dx
    pop ax
    ret

; ata_wait_notbusy: poll until BSY=0. AL = status; CF=1 on timeout.
ata_wait_notbusy:
    push ecx
    push dx
    mov ecx, ATA_TIMEOUT
    mov dx, ATA_CMD
.l:
    in al, dx
    test al, ST_BSY
    jz .ok
    dec ecx
    jnz .l
    stc
    jmp .out
.ok:
    clc
.out:
    pop dx
    pop ecx
    ret

; ata_wait_drq: wait for BSY=0 and DRQ=1. CF=1 and AH = status code if the
; drive times out, reports ERR (04h) or DF, or has no data (20h).
ata_wait_drq:
    call ata_wait_notbusy
    jc .timeout
    test al, ST_ERR
    jnz .err
    test al, ST_DF
    jnz .fail
    test al, ST_DRQ
    jz .fail
    clc
    ret
.timeout:
    mov ah, DISK_TIMEOUT
    stc
    ret
.err:
    mov ah, DISK_NOTFOUND
    stc
    ret
.fail:
    mov ah, DISK_CTRLFAIL
    stc
    ret

; normalize_esdi: ES:DI → the same address with DI < 16, so that a 512-byte
; transfer never wraps the segment (transfers across 64 KiB advance ES).
normalize_esdi:
    push ax
    push cx
    mov ax, di
    shr ax, 4
    mov cx, es
    add cx, ax
    mov es, cx
    and di, 0x000F
    pop cx
    pop ax
    ret

; ata_rw: transfer CX sectors at LBA EAX with ES:DI, BL = ATA_READ or
; ATA_WRITE. Returns CX = sectors transferred, AH = status code, CF = AH≠0.
; Keeps BX; moves ES:DI past the data; clobbers EAX.
ata_rw:
    push bx
    push bp
    push esi
    push dx
    push cx                     ; requested
    mov esi, eax                ; next LBA
    mov bp, cx                  ; sectors left
.chunk:
    test bp, bp
    jz .finish
    mov bh, 128                 ; at most 128 sectors per command
    cmp bp, 128
    jae .cmd
    mov ax, bp
    mov bh, al
.cmd:
    call ata_wait_notbusy
    jc .timeout
    mov eax, esi
    shr eax, 24
    and al, 0x0F
    or al, 0xE0                 ; master, LBA, LBA[27:24]
    mov dx, ATA_DRIVE
    out dx, al
    mov dx, ATA_COUNT
    mov al, bh
    out dx, al
    mov eax, esi
    inc dx                      ; 1F3h LBA[7:0]
    out dx, al
    shr eax, 8
    inc dx                      ; 1F4h LBA[15:8]
    out dx, al
    shr eax, 8
    inc dx                      ; 1F5h LBA[23:16]
    out dx, al
    mov dx, ATA_CMD
    mov al, bl
    out dx, al
    call ata_delay
.sector:
    call ata_wait_drq
    jc .ret
    call normalize_esdi
    mov dx, ATA_DATA
    mov cx, 256
    cmp bl, ATA_WRITE
    je .out
    rep insw
    jmp .next
.out:
    push ds
    push esi
    mov si, di
    push es
    pop ds
    rep outsw
    mov di, si
    pop esi
    pop ds
.next:
    inc esi
    dec bp
    dec bh
    jnz .sector
    jmp .chunk
.finish:
    xor ah, ah
    cmp bl, ATA_WRITE
    jne .ret
    call ata_wait_notbusy       ; the last sector reaches the medium
    jc .timeout
    test al, ST_ERR | ST_DF
    jnz .wfault
    mov dx, ATA_CMD
    mov al, ATA_FLUSH
    out dx, al
    call ata_delay
    call ata_wait_notbusy
    jc .timeout
    test al, ST_ERR | ST_DF
    jnz .wfault
    xor ah, ah
    jmp .ret
.timeout:
    mov ah, DISK_TIMEOUT
    jmp .ret
.wfault:
    mov ah, DISK_WRFAULT
.ret:
    pop cx
    sub cx, bp                  ; transferred = requested − left
    pop dx
    pop esi
    pop bp
    pop bx
    test ah, ah                 ; CF = 0
    jz .r
    stc
.r:
    ret

; ata_detect: IDENTIFY DEVICE (ATA-6 §8.15) on the primary master; fills the
; EBDA disk fields. DS = 0.
ata_detect:
    push es
    push EBDA_SEG
    pop es
    mov dx, ATA_CTRL
    mov al, 0x02                ; nIEN: no disk interrupts, the BIOS polls
    out dx, al
    mov dx, ATA_CMD
    in al, dx
    cmp al, 0xFF                ; floating bus: no controller
    je .none
    mov dx, ATA_DRIVE
    mov al, 0xA0
    out dx, al
    call ata_delay
    mov dx, ATA_CMD
    in al, dx
    cmp al, 0xFF
    je .none
    test al, al                 ; no device
    jz .none
    call ata_wait_notbusy
    jc .none
    xor al, al
    mov dx, ATA_COUNT
    out dx, al
    inc dx
    out dx, al
    inc dx
    out dx, al
    inc dx
    out dx, al
    mov dx, ATA_CMD
    mov al, ATA_IDENTIFY
    out dx, al
    call ata_delay
    in al, dx
    test al, al
    jz .none
    call ata_wait_drq
    jc .none
    mov dx, ATA_DATA
    xor cx, cx
.word:
    in ax, dx
    cmp cx, 60
    jne .n60
    mov [es:EBDA_SECTORS], ax
.n60:
    cmp cx, 61
    jne .n61
    mov [es:EBDA_SECTORS + 2], ax
.n61:
    inc cx
    cmp cx, 256
    jb .word
    mov eax, [es:EBDA_SECTORS]
    test eax, eax
    jz .none
    xor edx, edx
    mov ecx, HEADS * SPT
    div ecx
    cmp eax, 1024
    jbe .c1
    mov ax, 1024
.c1:
    test ax, ax
    jnz .c2
    inc ax
.c2:
    mov [es:EBDA_CYLS], ax
    mov byte [es:EBDA_DISK], 1
    mov byte [BDA_NUM_DISKS], 1
.none:
    pop es
    ret

; ---------------------------------------------------------------------------
; INT 15h: system services (RBIL INT 15)
; ---------------------------------------------------------------------------
int15:
    ENTER_FRAME
    cmp ax, 0xE820
    je .e820
    cmp ax, 0xE801
    je .e801
    cmp ah, 0x88
    je .ext
    cmp ah, 0xC0
    je .config
    cmp ah, 0x86
    je .wait
    cmp ah, 0x24
    je .a20
.unsupported:
    mov byte [F_AH], 0x86
    jmp svc_cf1

.e820:                          ; ACPI 6.x §15.1: EBX continuation, ES:DI buffer
    cmp edx, SMAP
    jne .unsupported
    cmp ecx, 20
    jb .unsupported
    movzx eax, word [cs:cfg_e820_count]
    cmp ebx, eax
    jae .unsupported
    imul si, bx, 20
    add si, cfg_e820
    push cs
    pop ds
    mov cx, 20
    rep movsb                   ; DI comes back from the frame
    inc ebx
    cmp ebx, eax
    jb .more
    xor ebx, ebx                ; last entry: EBX = 0
.more:
    mov [F_EBX], ebx
    mov dword [F_EAX], SMAP
    mov dword [F_ECX], 20
    jmp svc_cf0

.e801:                          ; AX=CX KiB in 1–16 MiB, BX=DX 64 KiB blocks above
    call mem_below_4g
    mov edx, eax
    xor ecx, ecx
    cmp eax, 0x100000
    jbe .e1
    mov ecx, eax
    cmp ecx, 0x1000000
    jbe .e0
    mov ecx, 0x1000000
.e0:
    sub ecx, 0x100000
    shr ecx, 10
.e1:
    xor ebx, ebx
    cmp edx, 0x1000000
    jbe .e2
    mov ebx, edx
    sub ebx, 0x1000000
    shr ebx, 16
.e2:
    mov [F_AX], cx
    mov [F_CX], cx
    mov [F_BX], bx
    mov [F_DX], bx
    jmp svc_cf0

.ext:                           ; AH=88h: AX = KiB above 1 MiB, at most FFFFh
    call mem_below_4g
    xor ecx, ecx
    sub eax, 0x100000
    jbe .x1
    shr eax, 10
    mov ecx, eax
    cmp ecx, 0xFFFF
    jbe .x1
    mov ecx, 0xFFFF
.x1:
    mov [F_AX], cx
    jmp svc_cf0

.config:                        ; AH=C0h: ES:BX = system configuration table
    mov word [F_ES], 0xF000
    mov word [F_BX], sys_config
    mov byte [F_AH], 0
    jmp svc_cf0

.wait:                          ; AH=86h: wait CX:DX µs, in whole timer ticks
    mov ax, cx
    shl eax, 16
    mov ax, dx
    xor edx, edx
    mov ecx, 54925              ; µs per tick
    div ecx
    test eax, eax
    jz svc_cf0
    push 0
    pop ds
    sti
.wtick:
    mov edx, [BDA_TICKS]
.wsame:
    hlt
    cmp edx, [BDA_TICKS]
    je .wsame
    dec eax
    jnz .wtick
    jmp svc_cf0

.a20:                           ; AX=240xh: A20 is always on
    cmp al, 0x01                ; enable
    je .a20ok
    cmp al, 0x02                ; status: AL = 1 (enabled)
    je .a20status
    cmp al, 0x03                ; support: BX = 0 (no gate to drive)
    je .a20support
    jmp .unsupported            ; 2400h disable: not possible
.a20status:
    mov byte [F_AL], 1
    jmp .a20ok
.a20support:
    mov word [F_BX], 0
.a20ok:
    mov byte [F_AH], 0
    jmp svc_cf0

; mem_below_4g: EAX = RAM bytes below 4 GiB (from the config block).
mem_below_4g:
    mov eax, [cs:cfg_memsize]
    cmp dword [cs:cfg_memsize + 4], 0
    je .r
    mov eax, 0xFFFFFFFF
.r:
    ret

; ---------------------------------------------------------------------------
; INT 16h: keyboard, from the serial line (RBIL INT 16)
; ---------------------------------------------------------------------------
int16:
    push bp
    mov bp, sp                  ; [bp+6] = caller's FLAGS
    push ds
    push bx
    push 0
    pop ds
    cmp ah, 0x00
    je .get
    cmp ah, 0x10
    je .get
    cmp ah, 0x01
    je .peek
    cmp ah, 0x11
    je .peek
    cmp ah, 0x02
    je .shift
    cmp ah, 0x12
    je .shift12
    jmp .out
.get:                           ; AH=00h/10h: wait; AL = char, AH = 0
    sti
.gl:
    call kbd_fill
    mov bx, [BDA_KBD_HEAD]
    cmp bx, [BDA_KBD_TAIL]
    jne .take
    hlt
    jmp .gl
.take:
    mov ax, [bx + 0x400]
    add bx, 2
    cmp bx, KBD_BUF_END
    jb .h
    mov bx, KBD_BUF_START
.h:
    mov [BDA_KBD_HEAD], bx
    jmp .out
.peek:                          ; AH=01h/11h: ZF=1 if none, else AX = key
    call kbd_fill
    mov bx, [BDA_KBD_HEAD]
    cmp bx, [BDA_KBD_TAIL]
    je .empty
    mov ax, [bx + 0x400]
    and byte [bp + 6], ~0x40
    jmp .out
.empty:
    or byte [bp + 6], 0x40
    jmp .out
.shift12:                       ; AH=12h: AX = extended shift flags
    mov ah, [BDA_SHIFT + 1]
.shift:                         ; AH=02h: AL = shift flags
    mov al, [BDA_SHIFT]
.out:
    pop bx
    pop ds
    pop bp
    iret

; kbd_fill moves a byte waiting in the UART into the BDA keyboard ring
; (scan code 0). DS = 0. Keeps all but flags.
kbd_fill:
    push ax
    push bx
    push dx
    mov dx, UART_LSR
    in al, dx
    cmp al, 0xFF                ; no UART
    je .d
    test al, LSR_DR
    jz .d
    mov dx, COM1
    in al, dx
    xor ah, ah
    mov bx, [BDA_KBD_TAIL]
    mov dx, bx
    add dx, 2
    cmp dx, KBD_BUF_END
    jb .n
    mov dx, KBD_BUF_START
.n:
    cmp dx, [BDA_KBD_HEAD]      ; full: drop
    je .d
    mov [bx + 0x400], ax
    mov [BDA_KBD_TAIL], dx
.d:
    pop dx
    pop bx
    pop ax
    ret

; ---------------------------------------------------------------------------
; INT 1Ah: time of day (RBIL INT 1A)
; ---------------------------------------------------------------------------
int1a:
    push bp
    mov bp, sp                  ; [bp+6] = caller's FLAGS
    push ds
    push 0
    pop ds
    cmp ah, 0x00
    je .get
    cmp ah, 0x01
    je .set
    cmp ah, 0x02
    je .time
    cmp ah, 0x04
    je .date
.cf1:
    or byte [bp + 6], 1
    jmp .out
.get:                           ; AH=00h: CX:DX ticks, AL midnight flag (cleared)
    cli
    mov dx, [BDA_TICKS]
    mov cx, [BDA_TICKS + 2]
    mov al, [BDA_MIDNIGHT]
    mov byte [BDA_MIDNIGHT], 0
    jmp .cf0
.set:                           ; AH=01h: ticks = CX:DX
    cli
    mov [BDA_TICKS], dx
    mov [BDA_TICKS + 2], cx
    mov byte [BDA_MIDNIGHT], 0
    jmp .cf0
.time:                          ; AH=02h: CH hour, CL min, DH sec (BCD), DL DST
    push ax
    call rtc_wait
    jc .fail
    mov al, 0x00
    call rtc_read
    mov dh, al
    mov al, 0x02
    call rtc_read
    mov cl, al
    mov al, 0x04
    call rtc_read
    mov ch, al
    mov al, 0x0B
    out 0x70, al
    in al, 0x71
    and al, 1
    mov dl, al
    pop ax
    jmp .cf0
.date:                          ; AH=04h: CH century, CL year, DH month, DL day
    push ax
    call rtc_wait
    jc .fail
    mov al, 0x32
    call rtc_read
    mov ch, al
    mov al, 0x09
    call rtc_read
    mov cl, al
    mov al, 0x08
    call rtc_read
    mov dh, al
    mov al, 0x07
    call rtc_read
    mov dl, al
    pop ax
    jmp .cf0
.fail:
    pop ax
    jmp .cf1
.cf0:
    and byte [bp + 6], 0xFE
.out:
    pop ds
    pop bp
    iret

; rtc_wait: wait while the RTC update is in progress (register A bit 7,
; MC146818 datasheet). CF=1 on timeout. Clobbers AX.
rtc_wait:
    push cx
    mov cx, 0xFFFF
.l:
    mov al, 0x0A
    out 0x70, al
    in al, 0x71
    test al, 0x80
    jz .ok
    loop .l
    pop cx
    stc
    ret
.ok:
    pop cx
    clc
    ret

; rtc_read: AL = CMOS register AL, in BCD even if the RTC runs in binary
; mode (register B bit 2). Clobbers AH.
rtc_read:
    out 0x70, al
    in al, 0x71
    mov ah, al
    mov al, 0x0B
    out 0x70, al
    in al, 0x71
    test al, 0x04
    mov al, ah
    jz .r
    aam                         ; AH = AL / 10, AL = AL mod 10
    shl ah, 4
    or al, ah
.r:
    ret

; ---------------------------------------------------------------------------
; INT 18h: no boot device. INT 19h: bootstrap loader (RBIL INT 18, INT 19)
; ---------------------------------------------------------------------------
int18:
    mov si, msg_int18
    call puts
    jmp halt

int19:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    push EBDA_SEG
    pop ds
    cmp byte [EBDA_DISK], 0
    je .nodisk
    xor eax, eax                ; LBA 0 → 0000:7C00
    mov cx, 1
    push 0
    pop es
    mov di, 0x7C00
    mov bl, ATA_READ
    call ata_rw
    jc .readerr
    push 0
    pop ds
    cmp word [0x7DFE], 0xAA55
    jne .notboot
    jmp boot_7c00
.nodisk:
    mov si, msg_nodisk
    call puts
    jmp halt
.readerr:
    mov si, msg_readerr
    call puts
    jmp halt
.notboot:
    mov si, msg_notboot
    call puts
    jmp halt

; ---------------------------------------------------------------------------
; Fixed entry points
; ---------------------------------------------------------------------------
    times 0xE05B - ($ - $$) db 0xFF
post_e05b:                      ; F000:E05B, the IBM PC/AT POST entry
    jmp post

    times 0xFFF0 - ($ - $$) db 0xFF
reset_vector:                   ; F000:FFF0 (SDM Vol. 3A §9.1.4)
    jmp 0xF000:post
    times 0xFFF5 - ($ - $$) db 0
    db '11/25/25'               ; F000:FFF5 BIOS date
    db 0
    db 0xFC                     ; F000:FFFE model byte: AT
    db 0
