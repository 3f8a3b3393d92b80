#include "common/der.h"

bool cvma_der_read(struct cvma_reader *r, struct cvma_der *t)
{
    struct cvma_reader save = *r;
    uint8_t l0 = 0, l1 = 0;
    uint16_t l2 = 0;
    size_t len = 0;
    bool ok;

    t->tag = 0;
    if (!cvma_reader_u8(r, &t->tag) || (t->tag & 0x1f) == 0x1f || !cvma_reader_u8(r, &l0)) {
        ok = false;
    } else if (l0 < 0x80) {
        len = l0;
        ok = true;
    } else if (l0 == 0x81) {
        ok = cvma_reader_u8(r, &l1) && l1 >= 0x80; /* else non-minimal */
        len = l1;
    } else if (l0 == 0x82) {
        ok = cvma_reader_u16be(r, &l2) && l2 >= 0x100; /* else non-minimal */
        len = l2;
    } else {
        ok = false; /* indefinite (0x80), or longer than any extension we read */
    }
    ok = ok && cvma_reader_sub(r, len, &t->val);
    if (!ok) {
        *r = save;
    }
    return ok;
}
