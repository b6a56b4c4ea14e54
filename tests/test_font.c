/* The built-in bitmap font: every printable glyph drawn, distinct, blank only for space; "Hi!"
 * drawn at scale 1 matches its picture (orientation: bit 0 is the top row, columns left to
 * right); scale 2 is scale 1 doubled; other bytes draw as '?'; drawing is clipped at the edges. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vkdp/data/image.h"

static const uint8_t ink[3] = {1, 2, 3};

static int lit(const uint8_t *img, int w, int x, int y)
{
    return !memcmp(img + ((size_t)y * w + x) * 3, ink, 3);
}

int main(void)
{
    for (int c = 32; c <= 126; c++) {
        const uint8_t *g = vkdp_font_glyph((unsigned char)c);
        int bits = 0;
        for (int k = 0; k < 5; k++)
            bits += __builtin_popcount(g[k] & 0x7f);
        CHECK(c == ' ' ? bits == 0 : bits > 0, "glyph %d has %d pixels", c, bits);
        CHECK((g[0] | g[1] | g[2] | g[3] | g[4]) >> 7 == 0, "glyph %d uses an eighth row", c);
        for (int d = 32; d < c; d++)
            CHECK(memcmp(g, vkdp_font_glyph((unsigned char)d), 5) != 0, "glyphs %d and %d are equal", c, d);
    }
    CHECK(vkdp_font_glyph(31) == NULL && vkdp_font_glyph(127) == NULL && vkdp_font_glyph(200) == NULL,
           "bytes outside 32..126 have no glyph");

    static const char *want[8] = {
        "#...#...#.....#...", "#...#.........#...", "#...#..##.....#...", "#####...#.....#...",
        "#...#...#.....#...", "#...#...#.........", "#...#..###....#...", "..................",
    };
    uint8_t one[8 * 18 * 3], two[16 * 36 * 3];
    memset(one, 255, sizeof one);
    memset(two, 255, sizeof two);
    CHECK(vkdp_font_width("Hi!", 1) == 18 && vkdp_font_width("Hi!", 2) == 36, "widths");
    vkdp_font_draw(one, 18, 8, 0, 0, "Hi!", 1, ink);
    vkdp_font_draw(two, 36, 16, 0, 0, "Hi!", 2, ink);
    for (int y = 0; y < 8; y++) {
        char row[19];
        for (int x = 0; x < 18; x++) {
            row[x] = lit(one, 18, x, y) ? '#' : '.';
            for (int d = 0; d < 4; d++)
                CHECK(lit(two, 36, 2 * x + d % 2, 2 * y + d / 2) == (row[x] == '#'), "scale 2 at %d,%d", x, y);
        }
        row[18] = '\0';
        CHECK(!strcmp(row, want[y]), "row %d of \"Hi!\": %s, want %s", y, row, want[y]);
    }
    /* a byte without a glyph draws '?' */
    uint8_t q1[8 * 6 * 3], q2[8 * 6 * 3];
    memset(q1, 255, sizeof q1);
    memset(q2, 255, sizeof q2);
    vkdp_font_draw(q1, 6, 8, 0, 0, "\xc3", 1, ink);
    vkdp_font_draw(q2, 6, 8, 0, 0, "?", 1, ink);
    CHECK(!memcmp(q1, q2, sizeof q1), "a non-ASCII byte draws as '?'");
    /* clipped on every side (ASan checks the writes) */
    uint8_t small[4 * 4 * 3];
    memset(small, 255, sizeof small);
    vkdp_font_draw(small, 4, 4, -3, -3, "W@W", 3, ink);
    vkdp_font_draw(small, 4, 4, 2, 2, "W", 3, ink);
    CHECK(lit(small, 4, 3, 3), "clipped glyph still drawn inside");

    if (getenv("VKDP_FONT_SHOW")) /* eyeball the whole font */
        for (int c0 = 32; c0 <= 126; c0 += 16) {
            for (int y = 0; y < 7; y++, putchar('\n'))
                for (int c = c0; c < c0 + 16 && c <= 126; c++, putchar(' '))
                    for (int x = 0; x < 5; x++)
                        putchar(vkdp_font_glyph((unsigned char)c)[x] >> y & 1 ? '#' : ' ');
            putchar('\n');
        }
    printf("%s font: 95 glyphs\n", failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
