/*
 * gen-alu.c: records the expected results of alu.asm's cases by running the
 * very same instructions on the CPU that runs this program.
 *
 * The op table below is the single source of truth: for each op, the
 * instruction text (Intel syntax that both GAS with -masm=intel and nasm
 * accept), its operand width and its class (which decides the inputs to try
 * and which flags the SDM leaves undefined). Every case runs one instruction
 * with inputs in EAX, EBX, ECX, EDX and the arithmetic flags, and records
 * EAX, EBX, ECX, EDX and the flags after it.
 *
 *   gen-alu ops     > alu-ops.inc      handlers and names for alu.asm (all ops)
 *   gen-alu cases   > part             the cases this build can run:
 *                                        x86-64 build: every op but BCD
 *                                        i386 build (-m32): the BCD ops, which
 *                                        are invalid in 64-bit mode
 *
 * build.sh --regen compiles both and concatenates the parts into
 * alu-cases.inc. Each part starts with a comment naming the CPU (CPUID brand
 * string) it was recorded on, so cases recorded under qemu-i386 say so.
 *
 * Build (x86-64): gcc -O1 -masm=intel -mno-red-zone -o gen-alu64 gen-alu.c
 * Build (i386):   gcc -m32 -O1 -masm=intel -fno-pic -no-pie -static -o gen-alu32 gen-alu.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpuid.h>

enum {
	CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, OF = 0x800,
	ALLF = CF | PF | AF | ZF | SF | OF,
};

/* Classes: input choice and defined-flag mask (SDM Vol. 2 "Flags Affected"). */
enum cls {
	K_ARITH,   /* ADD ADC SUB SBB CMP NEG INC DEC XADD CMPXCHG: all flags defined */
	K_LOGIC,   /* AND OR XOR TEST: AF undefined */
	K_NOFLAGS, /* NOT BSWAP CBW.. MOVSX MOVZX LAHF: flags unaffected */
	K_SHL,     /* SHL/SHR: CF undefined if count >= width (8/16), OF only for count 1, AF undefined */
	K_SAR,     /* SAR: as SHL but CF always defined */
	K_SH1,     /* shift/rotate by the constant 1 (D0/D1 forms) */
	K_ROT,     /* ROL ROR RCL RCR by CL: OF undefined for count > 1 */
	K_SHD,     /* SHLD SHRD by CL */
	K_MUL,     /* MUL IMUL: CF OF defined, SF ZF AF PF undefined */
	K_DIV,     /* DIV: no flag defined; inputs avoid #DE */
	K_IDIV,    /* IDIV */
	K_BS,      /* BSF BSR: ZF defined; dest undefined when the source is 0 */
	K_BT,      /* BT BTS BTR BTC: CF defined, ZF unaffected */
	K_CMPXCHG, /* all flags defined; half the cases compare equal */
	K_SETCC,   /* flags in, AL out */
	K_SAHF,    /* loads SF ZF AF PF CF from AH */
	K_DAA,     /* DAA DAS: OF undefined */
	K_AAA,     /* AAA: AF CF defined */
	K_AAS,     /* AAS */
	K_AAM,     /* AAM AAD: SF ZF PF defined */
	K_IMM,     /* ALU op with an immediate: all flags (set per op below) */
	K_IMMLOGIC,
};

/* X(name, "instruction", width, class) */
#define OPS_MAIN(X) \
	X(add8, "add al, bl", 8, K_ARITH) X(add16, "add ax, bx", 16, K_ARITH) X(add32, "add eax, ebx", 32, K_ARITH) \
	X(adc8, "adc al, bl", 8, K_ARITH) X(adc16, "adc ax, bx", 16, K_ARITH) X(adc32, "adc eax, ebx", 32, K_ARITH) \
	X(sub8, "sub al, bl", 8, K_ARITH) X(sub16, "sub ax, bx", 16, K_ARITH) X(sub32, "sub eax, ebx", 32, K_ARITH) \
	X(sbb8, "sbb al, bl", 8, K_ARITH) X(sbb16, "sbb ax, bx", 16, K_ARITH) X(sbb32, "sbb eax, ebx", 32, K_ARITH) \
	X(cmp8, "cmp al, bl", 8, K_ARITH) X(cmp16, "cmp ax, bx", 16, K_ARITH) X(cmp32, "cmp eax, ebx", 32, K_ARITH) \
	X(and8, "and al, bl", 8, K_LOGIC) X(and16, "and ax, bx", 16, K_LOGIC) X(and32, "and eax, ebx", 32, K_LOGIC) \
	X(or8, "or al, bl", 8, K_LOGIC) X(or16, "or ax, bx", 16, K_LOGIC) X(or32, "or eax, ebx", 32, K_LOGIC) \
	X(xor8, "xor al, bl", 8, K_LOGIC) X(xor16, "xor ax, bx", 16, K_LOGIC) X(xor32, "xor eax, ebx", 32, K_LOGIC) \
	X(test8, "test al, bl", 8, K_LOGIC) X(test16, "test ax, bx", 16, K_LOGIC) X(test32, "test eax, ebx", 32, K_LOGIC) \
	X(addi8, "add al, 0x7f", 8, K_IMM) X(adci32, "adc ebx, -3", 32, K_IMM) X(subi16, "sub ax, 0x1234", 16, K_IMM) \
	X(sbbi8, "sbb cl, 0x80", 8, K_IMM) X(cmpi32, "cmp ecx, 0x80000000", 32, K_IMM) X(cmpi8s, "cmp edx, -1", 32, K_IMM) \
	X(andi32, "and ebx, 0xffff00ff", 32, K_IMMLOGIC) X(ori16, "or dx, 0x8001", 16, K_IMMLOGIC) \
	X(xori8, "xor bl, 0xa5", 8, K_IMMLOGIC) X(testi32, "test eax, 0x80000001", 32, K_IMMLOGIC) X(testi8, "test bl, 0x81", 8, K_IMMLOGIC) \
	X(inc8, "inc al", 8, K_ARITH) X(inc16, "inc ax", 16, K_ARITH) X(inc32, "inc eax", 32, K_ARITH) \
	X(dec8, "dec al", 8, K_ARITH) X(dec16, "dec ax", 16, K_ARITH) X(dec32, "dec eax", 32, K_ARITH) \
	X(neg8, "neg al", 8, K_ARITH) X(neg16, "neg ax", 16, K_ARITH) X(neg32, "neg eax", 32, K_ARITH) \
	X(not8, "not al", 8, K_NOFLAGS) X(not16, "not ax", 16, K_NOFLAGS) X(not32, "not eax", 32, K_NOFLAGS) \
	X(shl8, "shl al, cl", 8, K_SHL) X(shl16, "shl ax, cl", 16, K_SHL) X(shl32, "shl eax, cl", 32, K_SHL) \
	X(shr8, "shr al, cl", 8, K_SHL) X(shr16, "shr ax, cl", 16, K_SHL) X(shr32, "shr eax, cl", 32, K_SHL) \
	X(sar8, "sar al, cl", 8, K_SAR) X(sar16, "sar ax, cl", 16, K_SAR) X(sar32, "sar eax, cl", 32, K_SAR) \
	X(rol8, "rol al, cl", 8, K_ROT) X(rol16, "rol ax, cl", 16, K_ROT) X(rol32, "rol eax, cl", 32, K_ROT) \
	X(ror8, "ror al, cl", 8, K_ROT) X(ror16, "ror ax, cl", 16, K_ROT) X(ror32, "ror eax, cl", 32, K_ROT) \
	X(rcl8, "rcl al, cl", 8, K_ROT) X(rcl16, "rcl ax, cl", 16, K_ROT) X(rcl32, "rcl eax, cl", 32, K_ROT) \
	X(rcr8, "rcr al, cl", 8, K_ROT) X(rcr16, "rcr ax, cl", 16, K_ROT) X(rcr32, "rcr eax, cl", 32, K_ROT) \
	X(shl1_8, "shl al, 1", 8, K_SH1) X(shr1_32, "shr eax, 1", 32, K_SH1) X(sar1_16, "sar ax, 1", 16, K_SH1) \
	X(rol1_32, "rol eax, 1", 32, K_SH1) X(ror1_8, "ror al, 1", 8, K_SH1) X(rcl1_16, "rcl ax, 1", 16, K_SH1) \
	X(rcr1_32, "rcr eax, 1", 32, K_SH1) \
	X(shli32, "shl eax, 7", 32, K_SH1) X(sari8, "sar al, 3", 8, K_SH1) X(rori16, "ror ax, 9", 16, K_SH1) \
	X(rcli8, "rcl al, 5", 8, K_SH1) \
	X(shld16, "shld ax, bx, cl", 16, K_SHD) X(shld32, "shld eax, ebx, cl", 32, K_SHD) \
	X(shrd16, "shrd ax, bx, cl", 16, K_SHD) X(shrd32, "shrd eax, ebx, cl", 32, K_SHD) \
	X(shldi32, "shld eax, ebx, 12", 32, K_SH1) X(shrdi16, "shrd ax, bx, 5", 16, K_SH1) \
	X(mul8, "mul bl", 8, K_MUL) X(mul16, "mul bx", 16, K_MUL) X(mul32, "mul ebx", 32, K_MUL) \
	X(imul8, "imul bl", 8, K_MUL) X(imul16, "imul bx", 16, K_MUL) X(imul32, "imul ebx", 32, K_MUL) \
	X(imul2_16, "imul ax, bx", 16, K_MUL) X(imul2_32, "imul eax, ebx", 32, K_MUL) \
	X(imul3_16, "imul ax, bx, 0x1234", 16, K_MUL) X(imul3_32, "imul eax, ebx, 1000", 32, K_MUL) \
	X(imul3s_32, "imul eax, ebx, -7", 32, K_MUL) \
	X(div8, "div bl", 8, K_DIV) X(div16, "div bx", 16, K_DIV) X(div32, "div ebx", 32, K_DIV) \
	X(idiv8, "idiv bl", 8, K_IDIV) X(idiv16, "idiv bx", 16, K_IDIV) X(idiv32, "idiv ebx", 32, K_IDIV) \
	X(bsf16, "bsf ax, bx", 16, K_BS) X(bsf32, "bsf eax, ebx", 32, K_BS) \
	X(bsr16, "bsr ax, bx", 16, K_BS) X(bsr32, "bsr eax, ebx", 32, K_BS) \
	X(bt16, "bt ax, bx", 16, K_BT) X(bt32, "bt eax, ebx", 32, K_BT) \
	X(bts16, "bts ax, bx", 16, K_BT) X(bts32, "bts eax, ebx", 32, K_BT) \
	X(btr16, "btr ax, bx", 16, K_BT) X(btr32, "btr eax, ebx", 32, K_BT) \
	X(btc16, "btc ax, bx", 16, K_BT) X(btc32, "btc eax, ebx", 32, K_BT) \
	X(bti32, "bt eax, 7", 32, K_BT) X(btsi32, "bts eax, 37", 32, K_BT) \
	X(btri16, "btr ax, 15", 16, K_BT) X(btci16, "btc ax, 20", 16, K_BT) \
	X(bswap32, "bswap eax", 32, K_NOFLAGS) \
	X(xadd8, "xadd al, bl", 8, K_ARITH) X(xadd16, "xadd ax, bx", 16, K_ARITH) X(xadd32, "xadd eax, ebx", 32, K_ARITH) \
	X(cmpxchg8, "cmpxchg bl, cl", 8, K_CMPXCHG) X(cmpxchg16, "cmpxchg bx, cx", 16, K_CMPXCHG) \
	X(cmpxchg32, "cmpxchg ebx, ecx", 32, K_CMPXCHG) \
	X(cbw, "cbw", 16, K_NOFLAGS) X(cwde, "cwde", 32, K_NOFLAGS) X(cwd, "cwd", 16, K_NOFLAGS) X(cdq, "cdq", 32, K_NOFLAGS) \
	X(movsx_b16, "movsx ax, bl", 16, K_NOFLAGS) X(movsx_b32, "movsx eax, bl", 32, K_NOFLAGS) \
	X(movsx_w32, "movsx eax, bx", 32, K_NOFLAGS) X(movzx_b16, "movzx ax, bl", 16, K_NOFLAGS) \
	X(movzx_b32, "movzx eax, bl", 32, K_NOFLAGS) X(movzx_w32, "movzx eax, bx", 32, K_NOFLAGS) \
	X(seto, "seto al", 8, K_SETCC) X(setno, "setno al", 8, K_SETCC) X(setb, "setb al", 8, K_SETCC) \
	X(setae, "setae al", 8, K_SETCC) X(sete, "sete al", 8, K_SETCC) X(setne, "setne al", 8, K_SETCC) \
	X(setbe, "setbe al", 8, K_SETCC) X(seta, "seta al", 8, K_SETCC) X(sets, "sets al", 8, K_SETCC) \
	X(setns, "setns al", 8, K_SETCC) X(setp, "setp al", 8, K_SETCC) X(setnp, "setnp al", 8, K_SETCC) \
	X(setl, "setl al", 8, K_SETCC) X(setge, "setge al", 8, K_SETCC) X(setle, "setle al", 8, K_SETCC) \
	X(setg, "setg al", 8, K_SETCC) \
	X(lahf, "lahf", 8, K_NOFLAGS) X(sahf, "sahf", 8, K_SAHF)

#define OPS_BCD(X) \
	X(daa, "daa", 8, K_DAA) X(das, "das", 8, K_DAA) X(aaa, "aaa", 8, K_AAA) X(aas, "aas", 8, K_AAS) \
	X(aam, "aam", 8, K_AAM) X(aam16, "aam 16", 8, K_AAM) X(aad, "aad", 8, K_AAM) X(aad7, "aad 7", 8, K_AAM)

struct op {
	const char *name, *text;
	int width, cls;
	void (*run)(uint32_t r[5]);
};

#ifdef __x86_64__
typedef uint64_t reg_t;
#define RUN_MAIN 1
#else
typedef uint32_t reg_t;
#define RUN_MAIN 0
#endif

/* run_NAME: load EAX..EDX and the flags, run the instruction, store them back.
 * r[4] holds the flags; only the arithmetic ones are passed in (IF and the
 * system flags cannot change at CPL 3 anyway). */
#define RUNFN(name, text, w, cls)                                              \
	static void run_##name(uint32_t r[5]) {                                \
		reg_t a = r[0], b = r[1], c = r[2], d = r[3];                  \
		reg_t f = (r[4] & ALLF) | 0x202;                               \
		__asm__ volatile("push %[f]\n\tpopf\n\t" text "\n\tpushf\n\tpop %[f]" \
				 : "+a"(a), "+b"(b), "+c"(c), "+d"(d), [f] "+S"(f) \
				 :                                             \
				 : "cc", "memory");                            \
		r[0] = a; r[1] = b; r[2] = c; r[3] = d; r[4] = f & ALLF;       \
	}
#if RUN_MAIN
OPS_MAIN(RUNFN)
#define MAIN_RUN(name) run_##name
#define BCD_RUN(name) 0
#else
OPS_BCD(RUNFN)
#define MAIN_RUN(name) 0
#define BCD_RUN(name) run_##name
#endif

#define ENTRY_MAIN(name, text, w, cls) {#name, text, w, cls, MAIN_RUN(name)},
#define ENTRY_BCD(name, text, w, cls) {#name, text, w, cls, BCD_RUN(name)},
static const struct op ops[] = {OPS_MAIN(ENTRY_MAIN) OPS_BCD(ENTRY_BCD)};
#define NOPS ((int)(sizeof ops / sizeof ops[0]))

/* A fixed xorshift generator: the same cases on every regeneration. */
static uint32_t rng = 0x2545F491;
static uint32_t rnd(void) {
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t wmask(int w) { return w == 32 ? 0xFFFFFFFFu : (1u << w) - 1; }

/* An operand of width w: often an edge value of that width, random above it. */
static uint32_t operand(int w) {
	uint32_t m = wmask(w), sb = 1u << (w - 1), r = rnd();
	const uint32_t edge[] = {0, 1, 2, sb - 1, sb, sb + 1, m, m - 1, 0x55555555 & m, 0xAAAAAAAA & m, 0x0F0F0F0F & m, 0x7F, 0x80};
	if (rnd() & 1) r = (r & ~m) | (edge[rnd() % (sizeof edge / sizeof edge[0])] & m);
	return r;
}

static uint32_t flags_in(void) { return rnd() & ALLF; }

struct kase {
	uint32_t in[5], out[5];
	uint32_t fmask, rmask; /* flags and registers (bit i = EAX,EBX,ECX,EDX) compared */
};

/* The defined flags after an op, from the SDM's "Flags Affected" per class. */
static uint32_t defined_flags(const struct op *op, const uint32_t in[5]) {
	unsigned cnt = in[2] & 0x1F;
	switch (op->cls) {
	case K_ARITH: case K_CMPXCHG: case K_NOFLAGS: case K_SETCC: case K_SAHF: case K_IMM:
		return ALLF;
	case K_LOGIC: case K_IMMLOGIC:
		return ALLF & ~AF;
	case K_SHL: case K_SAR:
		if (cnt == 0) return ALLF;
		return CF * !(op->cls == K_SHL && cnt >= (unsigned)op->width) | PF | ZF | SF | OF * (cnt == 1);
	case K_SH1: {
		/* constant count: 1 for the D0/D1 forms, else the immediate */
		const char *p = strrchr(op->text, ',');
		unsigned k = (unsigned)strtoul(p + 1, 0, 0) & 0x1F;
		int rot = op->text[0] == 'r';
		if (strncmp(op->text, "shld", 4) == 0 || strncmp(op->text, "shrd", 4) == 0)
			return CF | PF | ZF | SF | OF * (k == 1);
		if (rot) return k == 1 ? ALLF : ALLF & ~OF;
		return CF | PF | ZF | SF | OF * (k == 1);
	}
	case K_ROT:
		return cnt > 1 ? ALLF & ~OF : ALLF;
	case K_SHD:
		if (cnt == 0) return ALLF;
		return CF | PF | ZF | SF | OF * (cnt == 1);
	case K_MUL: return CF | OF;
	case K_DIV: case K_IDIV: return 0;
	case K_BS: return ZF;
	case K_BT: return CF | ZF;
	case K_DAA: return ALLF & ~OF;
	case K_AAA: case K_AAS: return AF | CF;
	case K_AAM: return SF | ZF | PF;
	}
	abort();
}

/* Inputs for the next case of op, or 0 to skip this draw. n = case number. */
static int make_inputs(const struct op *op, int n, uint32_t in[5]) {
	static const unsigned counts[] = {0, 1, 2, 7, 8, 15, 16, 31, 32, 33};
	int w = op->width;
	uint32_t m = wmask(w);
	in[0] = operand(w);
	in[1] = operand(w);
	in[2] = operand(w);
	in[3] = rnd();
	in[4] = flags_in();
	switch (op->cls) {
	case K_SHL: case K_SAR: case K_ROT:
		in[2] = (rnd() & ~0xFFu) | counts[n % 10];
		break;
	case K_SHD:
		in[2] = (rnd() & ~0xFFu) | counts[n % 10];
		if (w == 16 && (in[2] & 0x1F) > 16) return 0; /* result undefined */
		break;
	case K_DIV: {
		uint32_t hi, dv; /* the quotient fits iff the high half < the divisor */
		if (w == 8) { hi = in[0] >> 8 & 0xFF; dv = in[1] & 0xFF; }
		else { hi = in[3] & m; dv = in[1] & m; }
		if (dv == 0 || hi >= dv) return 0; /* #DE */
		break;
	}
	case K_IDIV: {
		int64_t num, q, dv;
		if (n % 2) { /* sign-extended dividends give in-range quotients */
			if (w == 8) in[0] = (in[0] & ~0xFF00u) | ((in[0] & 0x80) ? 0xFF00 : 0);
			else in[3] = (in[0] >> (w - 1) & 1) ? 0xFFFFFFFF : 0;
		}
		if (w == 8) { num = (int16_t)in[0]; dv = (int8_t)in[1]; }
		else if (w == 16) { num = (int32_t)((in[3] & 0xFFFF) << 16 | (in[0] & 0xFFFF)); dv = (int16_t)in[1]; }
		else { num = (int64_t)((uint64_t)in[3] << 32 | in[0]); dv = (int32_t)in[1]; }
		if (dv == 0) return 0;
		if (num == INT64_MIN && dv == -1) return 0;
		q = num / dv;
		if (q < -((int64_t)1 << (w - 1)) || q >= ((int64_t)1 << (w - 1))) return 0; /* #DE */
		break;
	}
	case K_BS:
		if (n % 6 == 0) in[1] &= ~m; /* zero source: ZF=1, destination undefined */
		else if (n % 3 == 0) in[1] = (in[1] & ~m) | (1u << (rnd() % w)); /* one bit */
		break;
	case K_CMPXCHG:
		if (n % 2 == 0) in[0] = (in[0] & ~m) | (in[1] & m);
		break;
	case K_SETCC:
		in[4] = flags_in();
		break;
	case K_DAA:
		in[0] = (in[0] & ~0xFFu) | (n < 16 ? (n * 0x11 + (n & 3) * 5) & 0xFF : rnd() & 0xFF);
		in[4] = (in[4] & ~(CF | AF)) | (n & 1 ? CF : 0) | (n & 2 ? AF : 0);
		break;
	case K_AAA:
		in[4] = (in[4] & ~AF) | (n & 1 ? AF : 0);
		/* Newer SDMs say AX := AX + 106H, older ones AL += 6, AH += 1: they differ
		 * only when AL+6 carries (AL >= 0xFA); leave that to the silicon vendor. */
		if ((in[0] & 0xFF) >= 0xFA) return 0;
		break;
	case K_AAS:
		in[4] = (in[4] & ~AF) | (n & 1 ? AF : 0);
		/* AX := AX - 6 vs AL -= 6: differ when AL < 6 and AF=1 */
		if ((in[0] & 0xFF) < 6 && (in[4] & AF)) return 0;
		break;
	default:
		break;
	}
	return 1;
}

static int ncases(const struct op *op) {
	switch (op->cls) {
	case K_SHL: case K_SAR: case K_ROT: case K_SHD: return 20;
	case K_DAA: return 48;
	case K_AAA: case K_AAS: return 32;
	case K_DIV: case K_IDIV: return 16;
	case K_NOFLAGS: case K_SETCC: return 8;
	default: return 12;
	}
}

static void emit_ops(void) {
	printf("; alu-ops.inc: generated by gen-alu.c (gen-alu ops). Do not edit.\n");
	printf("; One handler per op: the instruction, then RET. alu.asm calls them.\n\n");
	printf("ALU_NOPS equ %d\n\nalu_op_table:\n", NOPS);
	for (int i = 0; i < NOPS; i++) printf("        dd alu_op_%s\n", ops[i].name);
	printf("alu_op_names:\n");
	for (int i = 0; i < NOPS; i++) printf("        dd alu_name_%s\n", ops[i].name);
	for (int i = 0; i < NOPS; i++)
		printf("alu_op_%s:\n        %s\n        ret\nalu_name_%s: db \"%s\", 0\n", ops[i].name,
		       ops[i].text, ops[i].name, ops[i].text);
}

static void cpu_brand(char *s) {
	unsigned r[12];
	memset(r, 0, sizeof r);
	if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
		for (int i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
	}
	memcpy(s, r, 48);
	s[48] = 0;
	for (int i = 47; i >= 0 && s[i] == ' '; i--) s[i] = 0;
	if (!s[0]) strcpy(s, "(no brand string)");
}

static void emit_cases(void) {
	char brand[49];
	int total = 0;
	cpu_brand(brand);
	printf("; cases recorded by the %s build of gen-alu.c on: %s\n", RUN_MAIN ? "x86-64" : "i386", brand);
	for (int i = 0; i < NOPS; i++) {
		const struct op *op = &ops[i];
		if (!op->run) continue;
		rng = 0x2545F491u ^ (uint32_t)(i * 0x9E3779B9u);
		int want = ncases(op), made = 0;
		for (int n = 0, tries = 0; made < want && tries < 10000; tries++) {
			struct kase k;
			if (!make_inputs(op, n, k.in)) continue;
			n++;
			memcpy(k.out, k.in, sizeof k.in);
			op->run(k.out);
			k.fmask = defined_flags(op, k.in);
			k.rmask = 0xF;
			if (op->cls == K_BS && (k.in[1] & wmask(op->width)) == 0) k.rmask &= ~1u;
			printf("        CASE %3d, %d, 0x%08x, 0x%08x, 0x%08x, 0x%08x, 0x%03x,"
			       " 0x%08x, 0x%08x, 0x%08x, 0x%08x, 0x%03x, 0x%03x ; %s\n",
			       i, k.rmask, k.in[0], k.in[1], k.in[2], k.in[3], k.in[4],
			       k.out[0], k.out[1], k.out[2], k.out[3], k.out[4], k.fmask, op->text);
			made++;
			total++;
		}
	}
	printf("; %d cases\n", total);
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "ops") == 0) emit_ops();
	else if (argc == 2 && strcmp(argv[1], "cases") == 0) emit_cases();
	else {
		fprintf(stderr, "usage: gen-alu ops|cases\n");
		return 2;
	}
	return 0;
}
