/* Sv48 paging: see vm.h. */
#define LEVELS 4
#define SATP_MODE 9UL
#include "vm.h"

int main(void)
{
    vm_tests();
    return 0;
}
