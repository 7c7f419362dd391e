#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// The C calls under names of their own: inside types with `read`/`write` methods (Subprocess,
// AtomicFile) the plain names would resolve to those methods.

func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, p, n)
    #else
    Darwin.read(fd, p, n)
    #endif
}

func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, p, n)
    #else
    Darwin.write(fd, p, n)
    #endif
}

func systemKill(_ pid: Int32, _ signal: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.kill(pid, signal)
    #else
    Darwin.kill(pid, signal)
    #endif
}
