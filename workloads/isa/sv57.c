/* Sv57 paging: see vm.h. */
#define LEVELS 5
#define SATP_MODE 10UL
#include "vm.h"

int main(void)
{
    vm_tests();
    return 0;
}
