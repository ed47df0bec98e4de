/*
 * wb_aka_internals.c -- white-box checks of aka/ internals whose truth is
 * worked out by hand in the comments: the Milenage bit rotation for
 * rotations that are not whole bytes (TS 35.206 4.1 allows any r), SIP LWS
 * skipping, and the quoted-string scanner.
 */

/* rot(x, r) moves bits towards the most significant end, cyclically:
 * 0x80 00..00 rotated by 1 is 00..00 01; 0x01 00..00 by 7 is 0x80 00..00;
 * by 8 the first byte becomes the last. */
T_TEST(aka_wb_rotation)
{
    uint8_t x[16] = {0}, y[16];
    unsigned r;
    x[0] = 0x80;
    aka_mil_rot(x, 1, y);
    T_EQ_HEX(y, 16, "00000000000000000000000000000001");
    x[0] = 0x01;
    aka_mil_rot(x, 7, y);
    T_EQ_HEX(y, 16, "80000000000000000000000000000000");
    x[0] = 0xab;
    aka_mil_rot(x, 8, y);
    T_EQ_HEX(y, 16, "000000000000000000000000000000ab");
    aka_mil_rot(x, 0, y);
    T_EQ_MEM(y, x, 16);
    /* rotating by r then by 128 - r is the identity, for every r */
    t_randbytes(x, 16);
    for (r = 0; r < 128; r++) {
        uint8_t z[16];
        aka_mil_rot(x, r, y);
        aka_mil_rot(y, (128 - r) & 127, z);
        T_EQ_MEM(z, x, 16);
    }
}

/* LWS = [*WSP CRLF] 1*WSP: a folded line is skipped, a bare CRLF is not. */
T_TEST(aka_wb_lws)
{
    dig_cur c;
    imssec_str s;
    static const char a[] = " \t\r\n  x", b[] = "\r\nx", q[] = "\"a\r\n b\\\"c\"z";
    c.p = a;
    c.n = sizeof a - 1;
    c.i = 0;
    dig_lws(&c);
    T_EQ_UINT(c.i, 6);
    c.p = b;
    c.n = sizeof b - 1;
    c.i = 0;
    dig_lws(&c);
    T_EQ_UINT(c.i, 0);
    c.p = q;
    c.n = sizeof q - 1;
    c.i = 0;
    T_EQ_INT(dig_quoted(&c, &s), 0);
    T_EQ_SLICE(s.p, s.n, "a\r\n b\\\"c");
    T_EQ_UINT(c.i, sizeof q - 2);
}
