/* A bare M-mode program, the kind of guest only full virtualization can run: it is its own
 * firmware (QEMU's -bios, vessel's --firmware), entered at 0x80000000 in M-mode by the reset
 * vector. It reads and writes M-mode CSRs, prints one line on the NS16550A UART, and powers
 * off through the SiFive test device. Started in S-mode instead (vessel --firmware builtin),
 * its first M-mode CSR access is an illegal instruction and it never prints. */

#define UART0 0x10000000
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define SIFIVE_TEST 0x100000
#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

	.section .text.start, "ax"
	.globl _start
_start:
	la t0, fail
	csrw mtvec, t0
	csrr a0, mhartid
	bnez a0, park /* other harts wait; hart 0 reports */
	csrr t0, misa
	csrw mscratch, t0
	csrr t1, mscratch
	bne t0, t1, fail
	la a0, message
	call puts
	li t0, SIFIVE_TEST
	li t1, TEST_PASS
	sw t1, 0(t0)
park:
	wfi
	j park

	.align 2
fail:
	li t0, SIFIVE_TEST
	li t1, (1 << 16) | TEST_FAIL
	sw t1, 0(t0)
	j park

/* puts(a0): the NUL-terminated string, byte by byte once the transmitter is empty. */
puts:
	li t0, UART0
1:	lbu t1, 0(a0)
	beqz t1, 3f
2:	lbu t2, UART_LSR(t0)
	andi t2, t2, UART_LSR_THRE
	beqz t2, 2b
	sb t1, 0(t0)
	addi a0, a0, 1
	j 1b
3:	ret

	.section .rodata
message:
	.asciz "vessel-mmode-bare: hart 0 runs in M-mode (mhartid, misa, mscratch, mtvec)\n"
