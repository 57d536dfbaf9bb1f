/* Sv39 paging: see vm.h. */
#define LEVELS 3
#define SATP_MODE 8UL
#include "vm.h"

int main(void)
{
    vm_tests();
    return 0;
}
