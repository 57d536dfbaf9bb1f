/* The console of the host programs (tellus, salus/): SBI DBCN console_write, one call per line. guestvm prints
 * through the legacy putchar instead, which the TSM forwards to its host. */
#include "cove.h"
#include "rt.h"

static char obuf[256];
static unsigned long olen;

void con_putc(char c)
{
    obuf[olen++] = c;
    if (c != '\n' && olen < sizeof obuf)
        return;
    for (unsigned long done = 0; done < olen;) {
        struct sbiret r = sbi(EID_DBCN, DBCN_WRITE, olen - done, (uint64_t)obuf + done, 0);
        if (r.error || r.value <= 0)
            break;
        done += r.value;
    }
    olen = 0;
}
