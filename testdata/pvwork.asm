; pvwork.asm: the same work in two builds, to measure what paravirtualization
; saves (testdata/README.md, "pvwork"):
;   nasm -f bin -DPV=0 -o pvwork-full.bin pvwork.asm   sensitive instructions
;   nasm -f bin -DPV=1 -o pvwork-pv.bin pvwork.asm     gemu hypercalls (hv/gemuhc.go)
;
; ITERS iterations, in 32-bit protected mode with 32-bit paging (SDM Vol. 3A
; §4.3) and two address spaces A and B (page directories page_dir, pd_b)
; that identity-map 0-4 MiB and each map a window of PAGES pages at WIN
; through a page table of their own (pt_win_a, pt_win_b). Iteration i:
;   1 critical section: remap the current space's window, page p to frame
;     fA(i,p) = (7i + 3p) mod 64 of a pool of 64 frames, and flush the old
;     translations (full: PTE stores, INVLPG each page; pv: one
;     GEMU_HC_MMU_UPDATE of PAGES entries with FLUSH_TLB)
;   2 read 4 dwords of each page through the window: word
;     w = (13i + 29p + 256k) mod 1024 of frame f must be ((f<<16)|w) * PAT_MUL
;   3 critical section: remap the other space's window, fB(i,p) =
;     (11i + 5p + 17) mod 64, and switch to it (full: PTE stores, MOV CR3;
;     pv: one GEMU_HC_MMU_UPDATE with NEW_CR3); then read as in 2
;   4 read sectors 2r and 2r+1, r = 5i mod 16, of the IDE disk (sectors 0-31
;     hold dword j of sector s = ((s<<7)|j) * DPAT_MUL ^ DPAT_XOR); write a
;     log sector to LOG_LBA + (i mod 32): "PVWK", i, the checksum so far c,
;     then dword j = c ^ j * 0x01000193; read back the previous iteration's
;     log sector and compare (full: ATA PIO READ/WRITE SECTORS on 1F0H-1F7H,
;     REP INSW/OUTSW; pv: GEMU_HC_BLOCK_IO)
;   5 progress on COM1: "." and after every 50th iteration a newline (full:
;     the UART's LSR polled, OUT; pv: one GEMU_HC_CONSOLE_WRITE)
; The critical sections are CLI ... STI in the full build and stores to the
; mask byte of a gemu_vcpu_info in the pv build. Every dword read in 2, 3
; and 4 is folded into the checksum: c = rol(c, 5) ^ v, from c = 0; the
; guest prints it, and both builds must print the same (hv/gemuhc_test.go
; computes it too). Start-up and the final lines use common.inc's UART
; output in both builds.
;
; Verdict: 0 = pass; 1 a word read through the window is wrong (a mapping
; or a stale translation); 2 a disk sector read is not the pattern; 3 the
; read-back log sector differs from what was written; 4 an ATA error, or a
; block or console hypercall failed; 5 GEMU_HC_MMU_UPDATE failed; 9 the pv
; build is not on gemu's pv mode (no hypervisor, so VMCALL would be #UD; or
; a hypervisor without gemu's hypercalls).

%ifndef PV
%error "build with -DPV=0 (the full build) or -DPV=1 (the pv build)"
%endif

%include "common.inc"
%include "idt.inc"
%include "paging.inc"

ITERS           equ 200
PAGES           equ 16              ; the window
POOL_FRAMES     equ 64              ; frames the window pages map (a power of 2)
WIN             equ 0x40000000      ; the window's address: PDE 256
PAT_MUL         equ 0x9E3779B1
DPAT_MUL        equ 0x85EBCA6B
DPAT_XOR        equ 0xC2B2AE35
LOG_LBA         equ 32              ; sectors 32-63 take the log
LOG_MAGIC       equ 0x4B575650      ; "PVWK"
LOG_MUL         equ 0x01000193

; ATA task file, primary channel (ATA/ATAPI-6 §7).
ATA_DATA        equ 0x1F0
ATA_COUNT       equ 0x1F2
ATA_LBA0        equ 0x1F3
ATA_LBA1        equ 0x1F4
ATA_LBA2        equ 0x1F5
ATA_DEVICE      equ 0x1F6
ATA_STATUS      equ 0x1F7           ; read: status; write: command
ATA_CONTROL     equ 0x3F6
ATA_BSY         equ 0x80
ATA_DF          equ 0x20
ATA_DRQ         equ 0x08
ATA_ERR         equ 0x01
ATA_READ_SECTORS  equ 0x20
ATA_WRITE_SECTORS equ 0x30
ATA_POLLS       equ 100000

; gemu's hypercalls (hv/gemuhc.go).
GEMU_HC_VERSION       equ 0x47450000
GEMU_HC_MMU_UPDATE    equ 0x47450001
GEMU_HC_CONSOLE_WRITE equ 0x47450002
GEMU_HC_BLOCK_IO      equ 0x47450003
GEMU_HC_VCPU_INFO     equ 0x47450004
MMU_FLUSH_TLB   equ 1
MMU_NEW_CR3     equ 2
BLOCK_WRITE     equ 1

; CRIT_ENTER / CRIT_LEAVE: the interrupt flag, real or virtual.
%macro CRIT_ENTER 0
%if PV
        mov byte [vcpu_info], 1
%else
        cli
%endif
%endmacro
%macro CRIT_LEAVE 0
%if PV
        mov byte [vcpu_info], 0     ; an interrupt held back comes at the next block
%else
        sti
%endif
%endmacro

main:
        call idt_init
        mov al, 0xFF                ; mask both 8259s: this guest takes no interrupt
        out 0x21, al
        out 0xA1, al
%if PV
        PRINTLN "pvwork: pv build: gemu hypercalls (mmu_update, console, block I/O, virtual IF)"
        call pv_init
%else
        PRINTLN "pvwork: full build: MOV CR3, INVLPG, CLI/STI, IN/OUT, ATA PIO"
        mov dx, ATA_CONTROL         ; nIEN: no INTRQ, the disk is polled
        mov al, 0x02
        out dx, al
%endif
        PRINT "iterations: "
        mov eax, ITERS
        call putdec
        PRINT ", window: "
        mov eax, PAGES
        call putdec
        PRINTLN " pages, 2 address spaces; disk: 2 sectors read, 1 written, 1 read back"

        call paging_setup           ; page_dir (space A): PDE 0 = identity 0-4 MiB
        mov eax, [page_dir]
        mov [pd_b], eax
        mov dword [page_dir + (WIN >> 22) * 4], pt_win_a + (PG_P | PG_RW)
        mov dword [pd_b + (WIN >> 22) * 4], pt_win_b + (PG_P | PG_RW)
        call fill_pool
        call paging_enable
        mov dword [cur_pd], page_dir
        mov dword [cur_pt], pt_win_a
        mov dword [oth_pd], pd_b
        mov dword [oth_pt], pt_win_b

.iter:
        ; 1-2. Remap the current space's window, flush, read through it.
        mov ebx, 7
        mov ecx, 3
        xor edx, edx
        call set_frames
        CRIT_ENTER
        mov edi, [cur_pt]
%if PV
        mov edx, MMU_FLUSH_TLB
        xor esi, esi
        call pv_remap
%else
        call set_ptes
        xor ecx, ecx
.invlpg:
        mov eax, ecx
        shl eax, 12
        invlpg [WIN + eax]
        inc ecx
        cmp ecx, PAGES
        jb .invlpg
%endif
        CRIT_LEAVE
        call read_window

        ; 3. Remap the other space's window and switch to it.
        mov ebx, 11
        mov ecx, 5
        mov edx, 17
        call set_frames
        CRIT_ENTER
        mov edi, [oth_pt]
%if PV
        mov edx, MMU_NEW_CR3
        mov esi, [oth_pd]
        call pv_remap
%else
        call set_ptes
        mov eax, [oth_pd]
        mov cr3, eax
%endif
        CRIT_LEAVE
        call read_window
        mov eax, [cur_pd]           ; the other space is now the current one
        xchg eax, [oth_pd]
        mov [cur_pd], eax
        mov eax, [cur_pt]
        xchg eax, [oth_pt]
        mov [cur_pt], eax

        ; 4. The disk.
        call disk_work

        ; 5. Progress.
        mov byte [progress], '.'
        mov byte [progress + 1], 10
        mov eax, [iter]
        inc eax
        xor edx, edx
        mov ecx, 50
        div ecx
        cmp edx, 1                  ; CF: a multiple of 50
        mov ecx, 1
        adc ecx, 0
        mov esi, progress
        call console_write

        inc dword [iter]
        cmp dword [iter], ITERS
        jb .iter

        PRINT "checksum: "
        mov eax, [checksum]
        call puthex32
        call newline
        xor eax, eax
        ret

; set_frames: frames[p] = (EBX*i + ECX*p + EDX) mod POOL_FRAMES for each page.
set_frames:
        pushad
        imul ebx, [iter]
        add ebx, edx
        xor edi, edi
.page:  mov eax, ebx
        and eax, POOL_FRAMES - 1
        mov [frames + edi*4], eax
        add ebx, ecx
        inc edi
        cmp edi, PAGES
        jb .page
        popad
        ret

; pte_value: EAX = the PTE that maps frames[ECX].
pte_value:
        mov eax, [frames + ecx*4]
        shl eax, 12
        add eax, pool + (PG_P | PG_RW)
        ret

%if PV
; pv_remap: one GEMU_HC_MMU_UPDATE: the PTEs of page table EDI for frames[],
; then flags EDX (ESI = the new CR3 with MMU_NEW_CR3).
pv_remap:
        pushad
        xor ecx, ecx
.entry: mov ebx, ecx
        shl ebx, 4
        lea eax, [edi + ecx*4]
        mov [mmu_batch + ebx], eax  ; pte_gpa (the tables are identity-mapped)
        mov dword [mmu_batch + ebx + 4], 0
        call pte_value
        mov [mmu_batch + ebx + 8], eax
        mov dword [mmu_batch + ebx + 12], 0
        inc ecx
        cmp ecx, PAGES
        jb .entry
        mov eax, GEMU_HC_MMU_UPDATE
        mov ebx, mmu_batch
        mov ecx, PAGES
        vmcall
        cmp eax, PAGES
        je .ok
        mov edx, PAGES
        mov esi, str_mmu_update
        mov cl, 5
        jmp check_failed
.ok:    popad
        ret
%else
; set_ptes: store the PTEs of page table EDI for frames[].
set_ptes:
        pushad
        xor ecx, ecx
.pte:   call pte_value
        mov [edi + ecx*4], eax
        inc ecx
        cmp ecx, PAGES
        jb .pte
        popad
        ret
%endif

; read_window: read 4 dwords of each window page, check them against the
; pattern of the frame set_frames chose, fold them into the checksum.
read_window:
        pushad
        xor ebx, ebx                ; p
.page:  xor ecx, ecx                ; k
.word:  mov eax, [iter]             ; w = (13i + 29p + 256k) mod 1024
        imul eax, eax, 13
        imul edx, ebx, 29
        add eax, edx
        mov edx, ecx
        shl edx, 8
        add eax, edx
        and eax, 1023
        mov edx, ebx
        shl edx, 12
        mov esi, [WIN + edx + eax*4]
        mov edx, [frames + ebx*4]   ; want ((f << 16) | w) * PAT_MUL
        shl edx, 16
        or edx, eax
        mov edi, PAT_MUL
        imul edx, edi
        cmp esi, edx
        jne .bad
        mov eax, esi
        call fold
        inc ecx
        cmp ecx, 4
        jb .word
        inc ebx
        cmp ebx, PAGES
        jb .page
        popad
        ret
.bad:   mov eax, esi
        mov esi, str_window
        mov cl, 1
        jmp check_failed

; fold: checksum = rol(checksum, 5) ^ EAX. Preserves registers.
fold:
        push edx
        mov edx, [checksum]
        rol edx, 5
        xor edx, eax
        mov [checksum], edx
        pop edx
        ret

; fold_buffer: fold ECX dwords at ESI. Preserves registers.
fold_buffer:
        pushad
.next:  lodsd
        call fold
        loop .next
        popad
        ret

; fill_pool: dword w of frame f = ((f << 16) | w) * PAT_MUL.
fill_pool:
        pushad
        mov edi, pool
        xor ebx, ebx                ; (f << 16) | w
        mov ecx, PAT_MUL
.frame: xor edx, edx
.word:  mov eax, ebx
        imul eax, ecx
        stosd
        inc ebx
        inc edx
        cmp edx, 1024
        jb .word
        add ebx, 0x10000 - 1024
        cmp ebx, POOL_FRAMES << 16
        jb .frame
        popad
        ret

; disk_work: step 4 of the iteration.
disk_work:
        pushad
        mov eax, [iter]             ; sectors 2r and 2r+1, r = 5i mod 16
        imul eax, eax, 5
        and eax, 15
        add eax, eax
        mov ebx, eax
        mov ecx, 2
        mov edi, rbuf
        call disk_read
        mov esi, rbuf               ; check: dword j of sector s
        mov edi, ebx
        shl edi, 7                  ; (s << 7) | j, counting on through the next sector
        xor ecx, ecx
.check: mov eax, edi
        mov edx, DPAT_MUL
        imul eax, edx
        xor eax, DPAT_XOR
        mov edx, eax
        mov eax, [esi + ecx*4]
        cmp eax, edx
        jne .bad_data
        inc edi
        inc ecx
        cmp ecx, 256
        jb .check
        mov ecx, 256
        call fold_buffer

        mov edi, [iter]             ; the log sector, in wbuf[i mod 2]
        and edi, 1
        shl edi, 9
        add edi, wbuf
        mov esi, edi
        mov eax, LOG_MAGIC
        stosd
        mov eax, [iter]
        stosd
        mov edx, [checksum]
        mov eax, edx
        stosd
        mov ecx, 3
.log:   mov eax, ecx
        imul eax, eax, LOG_MUL
        xor eax, edx
        stosd
        inc ecx
        cmp ecx, 128
        jb .log
        mov eax, [iter]
        and eax, 31
        add eax, LOG_LBA
        mov ecx, 1
        call disk_write

        mov eax, [iter]             ; read back the previous log sector
        test eax, eax
        jz .done
        dec eax
        mov ebx, eax
        and eax, 31
        add eax, LOG_LBA
        mov ecx, 1
        mov edi, rbuf
        call disk_read
        and ebx, 1
        shl ebx, 9
        lea edi, [wbuf + ebx]
        mov esi, rbuf
        mov ecx, 128
        repe cmpsd
        jne .bad_log
        mov esi, rbuf
        mov ecx, 128
        call fold_buffer
.done:  popad
        ret
.bad_data:
        mov esi, str_disk
        mov cl, 2
        jmp check_failed
.bad_log:
        mov eax, [esi - 4]
        mov edx, [edi - 4]
        mov esi, str_log
        mov cl, 3
        jmp check_failed

%if PV
; disk_read: ECX sectors from LBA EAX into EDI; disk_write: ECX sectors at
; LBA EAX from ESI. Preserve registers.
disk_read:
        pushad
        mov ebx, edi
        xor esi, esi
        jmp block_io
disk_write:
        pushad
        mov ebx, esi
        mov esi, BLOCK_WRITE
block_io:
        mov edx, ecx                ; sectors
        mov ecx, eax                ; LBA
        mov eax, GEMU_HC_BLOCK_IO
        vmcall
        cmp eax, edx
        je .ok
        mov esi, str_block_io
        mov cl, 4
        jmp check_failed
.ok:    popad
        ret

; console_write: ECX bytes at ESI to COM1. Preserves registers.
console_write:
        pushad
        mov ebx, esi
        mov edx, ecx
        mov eax, GEMU_HC_CONSOLE_WRITE
        vmcall
        cmp eax, edx
        je .ok
        mov esi, str_console
        mov cl, 4
        jmp check_failed
.ok:    popad
        ret

; pv_init: make sure this is gemu's pv mode (verdict 9 if not), register
; the gemu_vcpu_info and set EFLAGS.IF for good: from here the mask byte
; is the interrupt flag.
pv_init:
        mov eax, 1
        cpuid
        test ecx, 1 << 31
        jnz .hypervisor
        PRINTLN "FAIL pvwork-pv needs gemu's pv mode: no hypervisor (CPUID.01H:ECX[31] = 0), VMCALL would be #UD"
        mov al, 9
        jmp exit_verdict
.hypervisor:
        SET_HOOK 6, no_vmcall       ; a hypervisor that does not take VMCALL: #UD
        mov eax, GEMU_HC_VERSION
        vmcall
        SET_HOOK 6, 0
        cmp eax, 1
        je .gemu
        mov edx, 1
        mov esi, str_version
        mov cl, 9
        jmp check_failed
.gemu:  mov byte [vcpu_info], 1     ; masked until registered
        mov eax, GEMU_HC_VCPU_INFO
        mov ebx, vcpu_info + 1
        vmcall
        xor edx, edx
        mov esi, str_vcpu_info
        mov cl, 4
        test eax, eax
        jnz check_failed
        CRIT_LEAVE
        sti
        ret

no_vmcall:
        PRINTLN "FAIL VMCALL raised #UD: pvwork-pv needs gemu's pv mode"
        mov al, 9
        jmp exit_verdict
%else
; disk_read: ECX (1-255) sectors from LBA EAX into EDI, by ATA PIO
; (ATA/ATAPI-6 §9.5: READ SECTORS, a DRQ data block per sector).
; Preserves registers.
disk_read:
        pushad
        mov ebx, ecx
        call ata_setup
        mov al, ATA_READ_SECTORS
        out dx, al
.sector:
        call ata_wait_drq
        mov ecx, 256
        mov dx, ATA_DATA
        rep insw
        dec ebx
        jnz .sector
        popad
        ret

; disk_write: ECX (1-255) sectors at LBA EAX from ESI, by ATA PIO (§9.6:
; WRITE SECTORS). Preserves registers.
disk_write:
        pushad
        mov ebx, ecx
        call ata_setup
        mov al, ATA_WRITE_SECTORS
        out dx, al
.sector:
        call ata_wait_drq
        mov ecx, 256
        mov dx, ATA_DATA
        rep outsw
        dec ebx
        jnz .sector
        call ata_wait_ready         ; the last block written: not busy, no error
        popad
        ret

; ata_setup: wait until the disk is not busy, then select the master in
; LBA mode and write the count (BL) and LBA (EAX, 28 bits). Leaves DX =
; the command register.
ata_setup:
        push eax
        call ata_wait_ready
        pop eax
        mov ecx, eax
        shr eax, 24
        and al, 0x0F
        or al, 0xE0                 ; LBA, device 0
        mov dx, ATA_DEVICE
        out dx, al
        mov al, bl
        mov dx, ATA_COUNT
        out dx, al
        mov al, cl
        mov dx, ATA_LBA0
        out dx, al
        mov al, ch
        mov dx, ATA_LBA1
        out dx, al
        mov eax, ecx
        shr eax, 16
        mov dx, ATA_LBA2
        out dx, al
        mov dx, ATA_STATUS
        ret

; ata_wait_ready: poll until BSY is clear; ERR or DF is a failure.
ata_wait_ready:
        push ecx
        mov ecx, ATA_POLLS
        mov dx, ATA_STATUS
.poll:  in al, dx
        test al, ATA_BSY
        jz .ready
        loop .poll
        jmp ata_failed
.ready: test al, ATA_ERR | ATA_DF
        jnz ata_failed
        pop ecx
        ret

; ata_wait_drq: poll until BSY is clear and DRQ set; ERR or DF is a failure.
ata_wait_drq:
        push ecx
        push edx
        mov ecx, ATA_POLLS
        mov dx, ATA_STATUS
.poll:  in al, dx
        test al, ATA_BSY
        jnz .again
        test al, ATA_ERR | ATA_DF
        jnz ata_failed
        test al, ATA_DRQ
        jnz .ready
.again: loop .poll
        jmp ata_failed
.ready: pop edx
        pop ecx
        ret

ata_failed:
        movzx eax, al
        xor edx, edx
        mov esi, str_ata
        mov cl, 4
        jmp check_failed

; console_write: ECX bytes at ESI to COM1 (uart.inc's putc: LSR polled).
; Preserves registers.
console_write:
        pushad
.next:  lodsb
        call putc
        loop .next
        popad
        ret
%endif

        section .data
str_window:     db "a word read through the window (got, want)", 0
str_disk:       db "a dword of a disk sector (got, want)", 0
str_log:        db "the log sector read back (got, want)", 0
str_ata:        db "ATA status (ERR, DF, or no DRQ/not ready after many polls)", 0
str_mmu_update: db "GEMU_HC_MMU_UPDATE result", 0
str_block_io:   db "GEMU_HC_BLOCK_IO result (sectors)", 0
str_console:    db "GEMU_HC_CONSOLE_WRITE result (bytes)", 0
str_version:    db "GEMU_HC_VERSION: not gemu's pv mode", 0
str_vcpu_info:  db "GEMU_HC_VCPU_INFO result", 0

        section .bss
        alignb 4096
pd_b:           resd 1024
pt_win_a:       resd 1024
pt_win_b:       resd 1024
pool:           resd 1024 * POOL_FRAMES
        alignb 16
rbuf:           resb 2 * 512
wbuf:           resb 2 * 512
mmu_batch:      resq 2 * PAGES
frames:         resd PAGES
iter:           resd 1
checksum:       resd 1
cur_pd:         resd 1
cur_pt:         resd 1
oth_pd:         resd 1
oth_pt:         resd 1
        alignb 8
vcpu_info:      resb 8              ; gemu_vcpu_info: byte 0 mask, byte 1 pending
progress:       resb 2

%include "end.inc"
