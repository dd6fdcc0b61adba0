/*
 * usym.h: names for user-space addresses of watched processes (elfutils
 * libdwfl), so sampled stacks say "server_run;framing_feed" instead of
 * "[user]".
 *
 * A process's mappings are recorded while it is alive (usym_add_pid:
 * dwfl_linux_proc_report reads /proc/PID/maps, and every mapped ELF file
 * is opened at once).  Lookups may come later, after the process exited:
 * they need only the ELF files already open.  Why this and not recording
 * PERF_RECORD_MMAP2 and opening the files afterwards: the mappings made
 * before the sampler is enabled (the executable and its libraries: all of
 * a server's code here) never appear as MMAP2 records, so /proc/PID/maps
 * has to be read anyway; and a file opened by path after the run may no
 * longer be the one that was mapped (a rebuilt binary), which would name
 * the wrong functions.  The cost: a process must be added while alive;
 * code it maps after that (a late dlopen) resolves to "[unknown]".
 *
 * A struct usym owns one Dwfl per process and the open files.
 */
#ifndef PKTMEM_PROFILE_USYM_H
#define PKTMEM_PROFILE_USYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define USYM_MAX_PIDS 32

struct usym;

int usym_new(struct usym **out);
void usym_free(struct usym *u);
/* Records pid's mappings and opens their ELF files; pid must be alive.
 * 0 (also when already known), -ESRCH (gone), -ENOSPC (table full),
 * -ENOMEM. */
int usym_add_pid(struct usym *u, pid_t pid);
bool usym_knows(const struct usym *u, pid_t pid);

/* One address of pid's address space, named: buf gets the function
 * ("server_run"), else "<module>+0x<offset>" ("libc.so.6+0x2a1f0"), else
 * "[unknown]"; *module (may be NULL) the module's base name or "".
 * Returns 1 named, 0 module only, -ENOENT not in any recorded mapping. */
int usym_name(struct usym *u, pid_t pid, uint64_t addr, char *buf, size_t len,
	      const char **module);

/* Unwinds one user stack by the binaries' DWARF call frame information
 * (.eh_frame), for code built without frame pointers (Debian's libc):
 * regs are the sampled user registers in perf's x86-64 order (AX, BX, CX,
 * DX, SI, DI, BP, SP, IP, then R8..R15: USYM_REGS_MASK), stack a copy of
 * len bytes from the stack pointer up.  pcs gets the instruction pointer,
 * then the return addresses (leaf first).  Returns how many, 0 when it
 * cannot (not x86-64, pid unknown, no CFI for the leaf).  Reads only the
 * copy: nothing of the process, which may have exited. */
int usym_unwind(struct usym *u, pid_t pid, pid_t tid, const uint64_t *regs,
		const void *stack, size_t len, uint64_t *pcs, int max);
/* perf_event_attr.sample_regs_user for usym_unwind, 0 where unsupported. */
uint64_t usym_regs_mask(void);
#define USYM_NREGS 16

/* Whether pid's main executable (the first module: its own binary) has
 * symbols (a .symtab, or a .dynsym with functions); name gets its base
 * name.  -ENOENT when pid is unknown. */
int usym_main_has_symbols(struct usym *u, pid_t pid, char *name, size_t len);

#endif
