// Placeholder: the Discovery work fills this shim in.
#ifndef CRESOLV_H
#define CRESOLV_H
int cresolv_placeholder(void);
#endif
