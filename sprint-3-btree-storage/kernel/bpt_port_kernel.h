/* SPDX-License-Identifier: MIT */
/*
 * bpt_port_kernel.h - what the kernel port of the B+ tree core
 * (bpt_port_kernel.c) offers the device beyond include/bpt_port.h: the
 * module-wide memory accounting behind the mem_cap parameter. Private to
 * kernel/.
 */
#ifndef BPT_PORT_KERNEL_H
#define BPT_PORT_KERNEL_H

/**
 * kvbtree_port_mem_used() - bytes all trees of the module hold now
 * (allocator overhead included, as the port charges it).
 */
unsigned long kvbtree_port_mem_used(void);

/**
 * kvbtree_port_mem_cap() - the mem_cap module parameter: the most
 * kvbtree_port_mem_used() may reach (0: no cap).
 */
unsigned long kvbtree_port_mem_cap(void);

#endif /* BPT_PORT_KERNEL_H */
