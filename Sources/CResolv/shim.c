#include "CResolv.h"
int cresolv_placeholder(void) { return 0; }
