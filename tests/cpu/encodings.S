# Every instruction of Vessel's table (RV64GC, Zfhmin, Zba, Zbb, Zbs, Zicond, Zicbom, Zicboz,
# Zacas, Zcb), assembled by GNU as and disassembled by objdump -M no-aliases at build time;
# objdump_test compares Vessel's decoder and disassembler against that dump. Each compressed
# instruction is followed by the 32-bit instruction it stands for, which the test uses to
# check the expansion.
	.option norelax
	.text

# ---- RV64I ----
	.option norvc
	lui	a0, 0x12345
	lui	t6, 0xfffff
	lui	zero, 0x80000
	auipc	ra, 0
	auipc	s1, 0xabcde
	jal	ra, .+2048
	jal	zero, .-1048576
	jal	t0, .+1048574
	jalr	zero, 0(ra)
	jalr	ra, -2048(a5)
	jalr	s11, 2047(t6)
	beq	a0, a1, .+8
	beq	zero, zero, .-4096
	bne	t0, t1, .+4094
	blt	s0, s1, .-2
	bge	a7, s2, .+16
	bltu	t3, t4, .-100
	bgeu	ra, sp, .+256
	lb	a0, 0(a1)
	lb	t6, -1(sp)
	lh	s0, 2047(gp)
	lw	a2, -2048(tp)
	ld	s11, 8(s10)
	lbu	a0, 1(zero)
	lhu	a1, -2(a2)
	lwu	a3, 100(a4)
	sb	a0, 0(a1)
	sb	zero, -1(sp)
	sh	t6, 2047(s0)
	sw	s1, -2048(a0)
	sd	ra, 8(sp)
	addi	a0, a0, -5
	addi	zero, zero, 0
	addi	sp, sp, -2048
	addi	t6, s11, 2047
	slti	a0, a1, -1
	sltiu	a2, a3, 2047
	xori	a4, a5, -2048
	ori	a6, a7, 255
	andi	s2, s3, -16
	slli	a0, a1, 0
	slli	s4, s5, 63
	srli	s6, s7, 32
	srli	t3, t4, 1
	srai	t5, t6, 63
	srai	a0, a0, 12
	add	a0, a1, a2
	add	zero, ra, sp
	sub	gp, tp, t0
	sll	t1, t2, s0
	slt	s1, a0, a1
	sltu	a2, a3, a4
	xor	a5, a6, a7
	srl	s2, s3, s4
	sra	s5, s6, s7
	or	s8, s9, s10
	and	s11, t3, t4
	addiw	a0, a1, -1
	addiw	t5, t6, 2047
	slliw	a0, a1, 31
	slliw	a2, a3, 0
	srliw	a4, a5, 31
	sraiw	a6, a7, 17
	addw	a0, a1, a2
	subw	a3, a4, a5
	sllw	a6, a7, s0
	srlw	s1, s2, s3
	sraw	s4, s5, s6
	fence	iorw, iorw
	fence	rw, w
	fence	r, rw
	fence	io, io
	fence	i, o
	fence.tso
	pause
	ecall
	ebreak
# ---- Zifencei ----
	fence.i
# ---- Zicsr ----
	csrrw	a0, 0x7c0, a1
	csrrw	zero, mstatus, t0
	csrrs	a2, 0x7c2, a3
	csrrs	zero, cycle, zero
	csrrc	t6, 0x7c1, t6
	csrrwi	a0, 0x7c0, 5
	csrrsi	a1, mepc, 0
	csrrci	s0, 0xfff, 31
	csrrs	a0, satp, zero
	csrrs	a0, fcsr, zero
# ---- Privileged ----
	sret
	mret
	wfi
	sfence.vma	zero, zero
	sfence.vma	a0, zero
	sfence.vma	a0, a1
# ---- M ----
	mul	a0, a1, a2
	mulh	a3, a4, a5
	mulhsu	a6, a7, s0
	mulhu	s1, s2, s3
	div	s4, s5, s6
	divu	s7, s8, s9
	rem	s10, s11, t3
	remu	t4, t5, t6
	mulw	a0, a1, a2
	divw	a3, a4, a5
	divuw	a6, a7, s0
	remw	s1, s2, s3
	remuw	zero, ra, sp
# ---- A ----
	lr.w	a0, (a1)
	lr.w.aq	a2, (a3)
	lr.w.rl	a4, (a5)
	lr.w.aqrl	a6, (a7)
	sc.w	a0, a2, (a1)
	sc.w.aqrl	zero, t6, (sp)
	amoswap.w	a0, a2, (a1)
	amoswap.w.aq	a0, a2, (a1)
	amoadd.w	a0, a2, (a1)
	amoxor.w.rl	a0, a2, (a1)
	amoand.w	a0, a2, (a1)
	amoor.w.aqrl	a0, a2, (a1)
	amomin.w	a0, a2, (a1)
	amomax.w	a0, a2, (a1)
	amominu.w	a0, a2, (a1)
	amomaxu.w	a0, a2, (a1)
	lr.d	t0, (t1)
	lr.d.aq	t0, (t1)
	sc.d	t0, t2, (t1)
	sc.d.rl	t0, t2, (t1)
	amoswap.d.aqrl	zero, a2, (a1)
	amoadd.d	s0, s1, (s2)
	amoxor.d	s0, s1, (s2)
	amoand.d.aq	s0, s1, (s2)
	amoor.d	s0, s1, (s2)
	amomin.d	s0, s1, (s2)
	amomax.d.rl	s0, s1, (s2)
	amominu.d	s0, s1, (s2)
	amomaxu.d	s0, s1, (s2)
# ---- F ----
	flw	fa0, 0(a1)
	flw	ft11, -2048(t6)
	fsw	fs0, 2047(sp)
	fsw	ft0, -4(zero)
	fmadd.s	fa0, fa1, fa2, fa3
	fmadd.s	ft0, ft1, ft2, ft3, rne
	fmsub.s	fs0, fs1, fs2, fs3, rtz
	fnmsub.s	fa4, fa5, fa6, fa7, rdn
	fnmadd.s	ft8, ft9, ft10, ft11, rup
	fadd.s	fa0, fa1, fa2
	fadd.s	fa0, fa1, fa2, rmm
	fsub.s	ft0, ft1, ft2, rne
	fmul.s	fs10, fs11, ft11
	fdiv.s	fa0, fa1, fa2, rtz
	fsqrt.s	fa0, fa1
	fsqrt.s	fa0, fa1, rdn
	fsgnj.s	fa0, fa1, fa2
	fsgnjn.s	fa3, fa4, fa5
	fsgnjx.s	fa6, fa7, fs0
	fmin.s	fs1, fs2, fs3
	fmax.s	fs4, fs5, fs6
	fcvt.w.s	a0, fa1
	fcvt.w.s	a0, fa1, rtz
	fcvt.wu.s	zero, ft0, rup
	fcvt.l.s	t6, ft11
	fcvt.lu.s	s0, fs0, rmm
	fmv.x.w	a0, fa0
	fclass.s	a1, fa1
	feq.s	a0, fa1, fa2
	flt.s	zero, ft0, ft1
	fle.s	t6, ft10, ft11
	fcvt.s.w	fa0, a1
	fcvt.s.w	fa0, a1, rne
	fcvt.s.wu	ft0, zero
	fcvt.s.l	fa0, a1, rmm
	fcvt.s.lu	fs11, t6
	fmv.w.x	fa0, a0
# ---- D ----
	fld	fa0, 8(sp)
	fld	fs11, 2047(zero)
	fsd	fa0, -8(s0)
	fsd	ft11, -2048(t6)
	fmadd.d	fa0, fa1, fa2, fa3, rtz
	fmsub.d	fa0, fa1, fa2, fa3
	fnmsub.d	fa0, fa1, fa2, fa3, rne
	fnmadd.d	fa0, fa1, fa2, fa3, rmm
	fadd.d	fa0, fa1, fa2
	fsub.d	fa0, fa1, fa2, rdn
	fmul.d	fa0, fa1, fa2, rup
	fdiv.d	fa0, fa1, fa2
	fsqrt.d	fa0, fa1
	fsgnj.d	fa0, fa1, fa2
	fsgnjn.d	fa0, fa1, fa2
	fsgnjx.d	fa0, fa1, fa2
	fmin.d	fa0, fa1, fa2
	fmax.d	fa0, fa1, fa2
	fcvt.s.d	fa0, fa1
	fcvt.s.d	fa0, fa1, rtz
	fcvt.d.s	fa0, fa1
	feq.d	a0, fa1, fa2
	flt.d	a0, fa1, fa2
	fle.d	a0, fa1, fa2
	fclass.d	a0, fa1
	fcvt.w.d	a0, fa1, rtz
	fcvt.wu.d	a0, fa1
	fcvt.l.d	a0, fa1, rne
	fcvt.lu.d	a0, fa1
	fcvt.d.w	fa0, a1
	fcvt.d.wu	fa0, a1
	fcvt.d.l	fa0, a1
	fcvt.d.lu	fa0, a1, rup
	fmv.x.d	a0, fa1
	fmv.d.x	fa0, a1

# ---- Zfhmin ----
	flh	fa0, 2(a1)
	flh	ft11, -2048(t6)
	fsh	fa0, -2(s0)
	fsh	fs11, 2047(sp)
	fcvt.s.h	fa0, fa1
	fcvt.d.h	ft0, fs11
	fcvt.h.s	fa0, fa1
	fcvt.h.s	fa0, fa1, rtz
	fcvt.h.s	ft11, ft0, rmm
	fcvt.h.d	fa0, fa1
	fcvt.h.d	fa0, fa1, rdn
	fmv.x.h	a0, fa1
	fmv.x.h	zero, ft11
	fmv.h.x	fa0, a1
	fmv.h.x	ft11, zero

# ---- Zba ----
	add.uw	a0, a1, a2
	add.uw	t0, t1, zero
	sh1add	a0, a1, a2
	sh1add	zero, t6, s11
	sh2add	s2, s3, s4
	sh3add	t3, t4, t5
	sh1add.uw	a3, a4, a5
	sh2add.uw	ra, sp, gp
	sh3add.uw	s0, s1, a0
	slli.uw	a0, a1, 0
	slli.uw	t6, s11, 63
	slli.uw	a2, a3, 32
# ---- Zbb ----
	andn	a0, a1, a2
	orn	t0, t1, t2
	xnor	s0, s1, zero
	clz	a0, a1
	ctz	t6, s11
	cpop	zero, ra
	clzw	a2, a3
	ctzw	s4, s5
	cpopw	t3, t4
	max	a0, a1, a2
	maxu	s6, s7, s8
	min	t5, t6, zero
	minu	a4, a5, a6
	sext.b	a0, a1
	sext.h	s9, s10
	zext.h	t1, t2
	rol	a0, a1, a2
	ror	gp, tp, t0
	rori	a0, a1, 0
	rori	s11, t6, 63
	rolw	a7, s2, s3
	rorw	t0, t1, t2
	roriw	a0, a1, 0
	roriw	s3, s4, 31
	orc.b	a0, a1
	rev8	t6, s11
# ---- Zbs ----
	bclr	a0, a1, a2
	bclri	a0, a1, 0
	bclri	t6, s11, 63
	bext	s0, s1, a0
	bexti	a3, a4, 37
	binv	t0, t1, t2
	binvi	a5, a6, 63
	bset	ra, sp, gp
	bseti	zero, a0, 1
# ---- Zicond ----
# binutils 2.40 does not know Zicond, so objdump lists these words as .insn/.4byte; the
# test holds Vessel to the text the Zicond specification gives them (objdump_test.cpp).
	.insn	r 0x33, 5, 7, a0, a1, a2
	.insn	r 0x33, 7, 7, t6, s11, zero
# ---- Zacas ----
# Nor does it know Zacas (AMO, funct5 00101, funct3 the width: 2, 3, 4 for amocas.q): .insn
# with aq/rl in funct7's low bits; the test holds Vessel to the specification's syntax.
	.insn	r 0x2f, 2, 0x14, a0, a2, a1	# amocas.w a0, a1, (a2)
	.insn	r 0x2f, 3, 0x17, t0, sp, t2	# amocas.d.aqrl t0, t2, (sp)
	.insn	r 0x2f, 4, 0x14, a0, a1, a2	# amocas.q a0, a2, (a1)
	.insn	r 0x2f, 4, 0x16, zero, t6, zero	# amocas.q.aq zero, zero, (t6)
	.insn	r 0x2f, 2, 0x15, zero, s11, t6	# amocas.w.rl zero, t6, (s11)
	.insn	r 0x2f, 4, 0x17, a4, a0, a6	# amocas.q.aqrl a4, a6, (a0)
# ---- Zicbom, Zicboz, Zicbop ----
# The prefetches are ori with rd = x0, which objdump names prefetch.* under zicbop.
	cbo.clean	(a0)
	cbo.flush	(t6)
	cbo.inval	(zero)
	cbo.zero	(s11)
	prefetch.i	64(a0)
	prefetch.r	-32(a1)
	prefetch.w	2016(t6)
	prefetch.r	-2048(zero)
	ori	zero, a0, 2
# ---- Svinval ----
	sinval.vma	a0, a1
	sinval.vma	zero, zero
	sfence.w.inval
	sfence.inval.ir
# ---- H ----
	hfence.vvma	a0, a1
	hfence.vvma	zero, zero
	hfence.gvma	t0, zero
	hinval.vvma	a0, a1
	hinval.gvma	zero, a2
	hlv.b	a0, (a1)
	hlv.bu	s1, (zero)
	hlv.h	t6, (a2)
	hlv.hu	a0, (a1)
	hlvx.hu	a3, (a4)
	hlv.w	a0, (sp)
	hlv.wu	ra, (a1)
	hlvx.wu	a0, (a1)
	hlv.d	s11, (t3)
	hsv.b	a0, (a1)
	hsv.h	zero, (a2)
	hsv.w	t6, (s0)
	hsv.d	a5, (a6)

# ---- RV64C: each compressed instruction, then its expansion ----
	.macro	pair16 c:vararg
	.option	rvc
	\c
	.option	norvc
	.endm
	pair16	c.addi4spn	a0, sp, 16
	addi	a0, sp, 16
	pair16	c.addi4spn	s1, sp, 1020
	addi	s1, sp, 1020
	pair16	c.fld	fa0, 8(a1)
	fld	fa0, 8(a1)
	pair16	c.fld	fs1, 248(s0)
	fld	fs1, 248(s0)
	pair16	c.lw	a0, 4(a1)
	lw	a0, 4(a1)
	pair16	c.lw	a5, 124(s1)
	lw	a5, 124(s1)
	pair16	c.ld	a0, 8(a1)
	ld	a0, 8(a1)
	pair16	c.ld	s0, 248(a5)
	ld	s0, 248(a5)
	pair16	c.fsd	fa0, 8(a1)
	fsd	fa0, 8(a1)
	pair16	c.fsd	fa5, 240(s0)
	fsd	fa5, 240(s0)
	pair16	c.sw	a0, 4(a1)
	sw	a0, 4(a1)
	pair16	c.sw	s1, 64(a4)
	sw	s1, 64(a4)
	pair16	c.sd	a0, 8(a1)
	sd	a0, 8(a1)
	pair16	c.sd	a3, 136(s1)
	sd	a3, 136(s1)
	pair16	c.addi	a0, 1
	addi	a0, a0, 1
	pair16	c.addi	s0, -32
	addi	s0, s0, -32
	pair16	c.addi	zero, 0
	addi	zero, zero, 0
	pair16	c.addiw	a0, -1
	addiw	a0, a0, -1
	pair16	c.addiw	t6, 31
	addiw	t6, t6, 31
	pair16	c.li	a0, -3
	addi	a0, zero, -3
	pair16	c.li	s11, 31
	addi	s11, zero, 31
	pair16	c.lui	a0, 0x1f
	lui	a0, 0x1f
	pair16	c.lui	t6, 0xfffe0
	lui	t6, 0xfffe0
	pair16	c.lui	ra, 1
	lui	ra, 1
	pair16	c.addi16sp	sp, -32
	addi	sp, sp, -32
	pair16	c.addi16sp	sp, 496
	addi	sp, sp, 496
	pair16	c.addi16sp	sp, -512
	addi	sp, sp, -512
	pair16	c.srli	a0, 1
	srli	a0, a0, 1
	pair16	c.srli	s1, 63
	srli	s1, s1, 63
	pair16	c.srai	a5, 32
	srai	a5, a5, 32
	pair16	c.andi	a0, -1
	andi	a0, a0, -1
	pair16	c.andi	s0, 31
	andi	s0, s0, 31
	pair16	c.sub	a0, a1
	sub	a0, a0, a1
	pair16	c.xor	s0, a5
	xor	s0, s0, a5
	pair16	c.or	a2, a3
	or	a2, a2, a3
	pair16	c.and	s1, s0
	and	s1, s1, s0
	pair16	c.subw	a4, a5
	subw	a4, a4, a5
	pair16	c.addw	a0, a1
	addw	a0, a0, a1
	pair16	c.j	.+8
	jal	zero, .+8
	pair16	c.j	.-2048
	jal	zero, .-2048
	pair16	c.j	.+2046
	jal	zero, .+2046
	pair16	c.beqz	a0, .-4
	beq	a0, zero, .-4
	pair16	c.beqz	s1, .-256
	beq	s1, zero, .-256
	pair16	c.bnez	a5, .+254
	bne	a5, zero, .+254
	pair16	c.slli	a0, 3
	slli	a0, a0, 3
	pair16	c.slli	s11, 63
	slli	s11, s11, 63
	pair16	c.fldsp	fa0, 8(sp)
	fld	fa0, 8(sp)
	pair16	c.fldsp	ft11, 504(sp)
	fld	ft11, 504(sp)
	pair16	c.lwsp	a0, 4(sp)
	lw	a0, 4(sp)
	pair16	c.lwsp	t6, 252(sp)
	lw	t6, 252(sp)
	pair16	c.ldsp	ra, 8(sp)
	ld	ra, 8(sp)
	pair16	c.ldsp	s0, 504(sp)
	ld	s0, 504(sp)
	pair16	c.jr	ra
	jalr	zero, 0(ra)
	pair16	c.jr	t6
	jalr	zero, 0(t6)
	pair16	c.mv	a0, a1
	add	a0, zero, a1
	pair16	c.mv	t6, ra
	add	t6, zero, ra
	pair16	c.ebreak
	ebreak
	pair16	c.jalr	a0
	jalr	ra, 0(a0)
	pair16	c.jalr	ra
	jalr	ra, 0(ra)
	pair16	c.add	a0, a1
	add	a0, a0, a1
	pair16	c.add	sp, t6
	add	sp, sp, t6
	pair16	c.fsdsp	fa0, 8(sp)
	fsd	fa0, 8(sp)
	pair16	c.fsdsp	fs11, 504(sp)
	fsd	fs11, 504(sp)
	pair16	c.swsp	a0, 4(sp)
	sw	a0, 4(sp)
	pair16	c.swsp	zero, 252(sp)
	sw	zero, 252(sp)
	pair16	c.sdsp	s0, 504(sp)
	sd	s0, 504(sp)
	pair16	c.sdsp	ra, 0(sp)
	sd	ra, 0(sp)

# ---- Zcb: each instruction, then its expansion ----
# binutils 2.40 has no Zcb, so the words come from .insn ca with the fields the specification
# gives them (CA's layout: funct6 at 15:10, a register at 9:7, funct2 at 6:5, a register at
# 4:2). objdump lists them as .2byte; the test holds each to its row (newer_than_binutils in
# objdump_test.cpp) and checks the expansion against the 32-bit form that follows. The loads
# and stores: funct6 100000 c.lbu, 100001 c.lhu/c.lh (bit 6), 100010 c.sb, 100011 c.sh, rs1'
# at 9:7, the offset in 6:5 (bit 6 is offset bit 0 for bytes), rd'/rs2' at 4:2.
	.macro	zcb16 op, funct6, funct2, r1, r2
	.option	rvc
	.insn	ca \op, \funct6, \funct2, \r1, \r2
	.option	norvc
	.endm
	zcb16	0, 0x20, 2, s1, a0	# c.lbu a0, 1(s1)
	lbu	a0, 1(s1)
	zcb16	0, 0x20, 3, a5, s0	# c.lbu s0, 3(a5)
	lbu	s0, 3(a5)
	zcb16	0, 0x20, 0, s0, a5	# c.lbu a5, 0(s0)
	lbu	a5, 0(s0)
	zcb16	0, 0x21, 1, a1, a0	# c.lhu a0, 2(a1)
	lhu	a0, 2(a1)
	zcb16	0, 0x21, 0, a4, s1	# c.lhu s1, 0(a4)
	lhu	s1, 0(a4)
	zcb16	0, 0x21, 3, a3, a2	# c.lh a2, 2(a3)
	lh	a2, 2(a3)
	zcb16	0, 0x21, 2, s0, a0	# c.lh a0, 0(s0)
	lh	a0, 0(s0)
	zcb16	0, 0x22, 2, a1, a0	# c.sb a0, 1(a1)
	sb	a0, 1(a1)
	zcb16	0, 0x22, 1, a5, s1	# c.sb s1, 2(a5)
	sb	s1, 2(a5)
	zcb16	0, 0x23, 1, a1, a0	# c.sh a0, 2(a1)
	sh	a0, 2(a1)
	zcb16	0, 0x23, 0, s0, a5	# c.sh a5, 0(s0)
	sh	a5, 0(s0)
# The unary ones: funct6 100111, rd'/rs1' at 9:7, funct2 11, the operation at 4:2 (000
# c.zext.b, 001 c.sext.b, 010 c.zext.h, 011 c.sext.h, 100 c.zext.w, 101 c.not: the register
# x8 + that); c.mul is funct2 10 with rs2' at 4:2.
	zcb16	1, 0x27, 3, a0, x8	# c.zext.b a0
	andi	a0, a0, 255
	zcb16	1, 0x27, 3, s1, x9	# c.sext.b s1
	sext.b	s1, s1
	zcb16	1, 0x27, 3, a5, x10	# c.zext.h a5
	zext.h	a5, a5
	zcb16	1, 0x27, 3, a2, x11	# c.sext.h a2
	sext.h	a2, a2
	zcb16	1, 0x27, 3, a3, x12	# c.zext.w a3
	add.uw	a3, a3, zero
	zcb16	1, 0x27, 3, a4, x13	# c.not a4
	xori	a4, a4, -1
	zcb16	1, 0x27, 2, a0, a1	# c.mul a0, a1
	mul	a0, a0, a1
	zcb16	1, 0x27, 2, s0, a5	# c.mul s0, a5
	mul	s0, s0, a5
