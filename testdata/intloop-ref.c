/* intloop-ref.c: the checksum intloop.asm prints, computed in C.
 * Usage: intloop-ref [N]   (default 10000000). Prints the checksum in hex. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], 0, 10) : 10000000;
	uint32_t a = 0x12345678, b = 0x9ABCDEF0, var = 1, d;
	for (uint32_t i = 0; i < n; i++) {
		d = var;
		a += d;
		b = b + a * 2 + 7;
		a ^= b;
		d >>= 1;
		b -= d;
		a &= 0x7FFFFFFF;
		var = b;
	}
	printf("%08x\n", a ^ b);
	return 0;
}
