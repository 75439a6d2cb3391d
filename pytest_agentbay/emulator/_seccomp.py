"""A small seccomp filter for sandboxes, assembled by hand as classic BPF (x86-64 only).

Sessions already run without capabilities in a user namespace, so mount, ptrace of anything
outside, raw sockets and namespace entry fail anyway; this filter takes away the kernel
interfaces that are still reachable without privileges and serve only attacks on the kernel or
on the session's own spawn server: ptrace, new namespaces (unshare, setns, clone with a
namespace flag), the mount API, keyrings, bpf, perf events, userfaultfd, module and kexec calls.
They fail with EPERM. libseccomp's Python bindings are not on PyPI, hence the dozen lines of
BPF below; bubblewrap loads the program (``--add-seccomp-fd``). Other architectures run without
it (``program()`` returns None): the namespaces and the missing capabilities still hold.
"""

from __future__ import annotations

import errno
import platform
import struct

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000  # x32 system calls: numbers with this bit; refused wholesale
_CLONE = 56
_CLONE3 = 435  # its flags sit in memory BPF cannot read: ENOSYS makes libc fall back to clone
_CLONE_NEW = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (+NEWTIME)
_CLONE_NEWTIME = 0x80
_BLOCKED = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_getfd": 438,
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272,
    "setns": 308, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442, "open_by_handle_at": 304,
    "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "swapon": 167, "swapoff": 168, "reboot": 169,
    "acct": 163, "syslog": 103, "quotactl": 179, "ioperm": 173, "iopl": 172,
}  # fmt: skip

_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ, _JGE, _JSET = 0x15, 0x35, 0x45  # BPF_JMP | BPF_K with JEQ, JGE, JSET
_RET = 0x06
_ALLOW = 0x7FFF0000
_EPERM = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
_ENOSYS = 0x00050000 | errno.ENOSYS
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg0's low half: little endian)


def program() -> bytes | None:
    """The filter as bytes of ``struct sock_filter``, or None on other architectures."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    # (code, k, where to go if true, where to go if false); None = the next instruction.
    code: list[tuple[int, int, str | None, str | None]] = [
        (_LD_ABS, _ARCH, None, None),
        (_JEQ, _AUDIT_ARCH_X86_64, "nr", "deny"),  # another ABI (i386 through int 0x80)
        (_LD_ABS, _NR, None, None),  # label "nr"
        (_JGE, _X32_BIT, "deny", None),
        (_JEQ, _CLONE3, "nosys", None),
        *[(_JEQ, nr, "deny", None) for nr in sorted(_BLOCKED.values())],
        (_JEQ, _CLONE, None, "allow"),
        (_LD_ABS, _ARG0, None, None),
        (_JSET, _CLONE_NEW | _CLONE_NEWTIME, "deny", "allow"),
    ]
    labels = {"nr": 2, "allow": len(code), "deny": len(code) + 1, "nosys": len(code) + 2}
    returns = [(_RET, _ALLOW), (_RET, _EPERM), (_RET, _ENOSYS)]
    packed = []
    for at, (op, k, yes, no) in enumerate(code):
        jt, jf = (0 if to is None else labels[to] - at - 1 for to in (yes, no))
        packed.append(struct.pack("=HBBI", op, jt, jf, k))
    packed += [struct.pack("=HBBI", op, 0, 0, k) for op, k in returns]
    return b"".join(packed)
