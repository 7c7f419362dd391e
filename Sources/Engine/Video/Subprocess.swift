import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process (ffmpeg, ffprobe) we stream through: pipes to its stdin and stdout, its stderr
/// kept in an anonymous temporary file, reads and writes that give up when the child stalls, and a
/// reap that always happens.
///
/// Stderr goes to a file rather than a pipe so that a chatty child can never block on a full pipe
/// while we wait on its stdout, without a second thread to drain it. Every exit path (end of stream,
/// error, stall, an early `close()`, deinit) goes through `finish()`, which kills the child if it is
/// still running and waits for it, so no zombie or orphaned ffmpeg is left behind.
final class Subprocess {
    enum Failure: Error {
        /// No byte moved for this many seconds; the child has been killed.
        case stalled(Double)
        /// The child closed its stdin early (it exited or failed).
        case inputClosed
        case system(String)
    }

    struct Exit {
        var status: Int32
        /// True when a signal ended the child: our own kill after a stall or an early close, or a crash.
        var signalled: Bool
        /// The tail of what the child wrote to stderr.
        var stderr: String
        var succeeded: Bool { !signalled && status == 0 }
    }

    let tool: String
    private let process = Process()
    private let output: Pipe?
    private let input: Pipe?
    private let errorLog: FileHandle
    private var exit: Exit?
    /// Signalled once, when the child has exited.
    private let exited = DispatchSemaphore(value: 0)

    init(executable: String, arguments: [String], readOutput: Bool, writeInput: Bool) throws {
        tool = (executable as NSString).lastPathComponent
        var template = Array((NSTemporaryDirectory() + "/linstory-stderr-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Failure.system("cannot create a temporary file: \(String(cString: strerror(errno)))") }
        // Unlinked at once: the file lives as long as the two descriptors to it, whatever happens to us.
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        errorLog = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        output = readOutput ? Pipe() : nil
        input = writeInput ? Pipe() : nil

        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardInput = input ?? FileHandle.nullDevice
        process.standardError = errorLog
        // `finish(timeout:)` waits on this instead of polling; set before the child starts.
        process.terminationHandler = { [exited] _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw Failure.system("cannot start \(executable): \(error.localizedDescription)")
        }
        // Our copies of the child's ends must go, or we would never see end of file on stdout (we
        // would hold a writer) and the child would never see it on stdin.
        try? output?.fileHandleForWriting.close()
        try? input?.fileHandleForReading.close()
    }

    deinit { _ = finish(kill: true) }

    /// Fills `buffer` from the child's stdout; returns fewer bytes than asked only at end of file.
    /// Throws `.stalled` (after killing the child) when no byte arrives for `timeout` seconds.
    func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Double) throws -> Int {
        guard let fd = output?.fileHandleForReading.fileDescriptor, let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            try waitFor(fd: fd, events: Int16(POLLIN), timeout: timeout)
            let n = systemRead(fd, base + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure.system("cannot read from \(tool): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    /// Writes all of `bytes` to the child's stdin, or throws `.stalled` / `.inputClosed`.
    func write(_ bytes: UnsafeRawBufferPointer, timeout: Double) throws {
        guard let fd = input?.fileHandleForWriting.fileDescriptor, let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            try waitFor(fd: fd, events: Int16(POLLOUT), timeout: timeout)
            let n = Self.writeWithoutSIGPIPE(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EPIPE { throw Failure.inputClosed }
                throw Failure.system("cannot write to \(tool): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Signals end of input to the child.
    func closeInput() {
        try? input?.fileHandleForWriting.close()
    }

    /// Waits for the child to exit (killing it first when `kill` is set and it still runs) and
    /// returns how it ended. Safe to call more than once.
    @discardableResult
    func finish(kill: Bool = false, timeout: Double? = nil) -> Exit {
        if let exit { return exit }
        closeInput()
        if kill && process.isRunning { terminate() }
        if let timeout, exited.wait(timeout: .now() + timeout) == .timedOut {
            // A child that will not exit on its own is killed after `timeout` seconds.
            terminate()
        }
        process.waitUntilExit()
        try? output?.fileHandleForReading.close()
        let result = Exit(status: process.terminationStatus,
                          signalled: process.terminationReason == .uncaughtSignal,
                          stderr: stderrTail())
        exit = result
        return result
    }

    /// write(2) to a pipe whose reader has gone raises SIGPIPE, which kills the process unless it is
    /// ignored; a library must not change the process's dispositions for its host. SIGPIPE from a
    /// write goes to the writing thread, so it is blocked on this thread for the write and, when the
    /// write raised it, taken off the pending set before the mask is restored: the write just fails
    /// with EPIPE, and nothing else in the process sees a signal. The reader can also go while a
    /// long write waits for room: the kernel then raises SIGPIPE but returns the bytes it did write,
    /// so the pending set, not the return value, says whether there is a signal to take.
    static func writeWithoutSIGPIPE(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        var pending = sigset_t()
        sigpending(&pending)
        let alreadyPending = sigismember(&pending, SIGPIPE) == 1
        let n = systemWrite(fd, bytes, count)
        let error = errno
        if !alreadyPending {
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &now)
            }
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        errno = error
        return n
    }

    private func terminate() {
        let pid = process.processIdentifier
        if pid > 0 { _ = systemKill(pid, SIGKILL) }
    }

    private func waitFor(fd: Int32, events: Int16, timeout: Double) throws {
        var clock = StallClock(timeout: timeout)
        while true {
            var p = pollfd(fd: fd, events: events, revents: 0)
            if clock.expired {
                terminate()
                finish()
                throw Failure.stalled(timeout)
            }
            let asked = clock.nextPoll
            let start = StallClock.now()
            let r = poll(&p, 1, Int32((asked * 1000).rounded(.up)))
            if r > 0 { return }  // readable, writable, or hung up: the read or write says which
            if r < 0 && errno != EINTR {
                throw Failure.system("cannot wait on \(tool): \(String(cString: strerror(errno)))")
            }
            clock.record(asked: asked, took: StallClock.now() - start)
        }
    }

    /// The last 4 KiB of the child's stderr.
    private func stderrTail() -> String {
        let fd = errorLog.fileDescriptor
        var info = stat()
        guard fstat(fd, &info) == 0 else { return "" }
        let size = Int(info.st_size)
        let count = min(size, 4096)
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(size - count)) }
        return got > 0 ? String(decoding: bytes[0..<got], as: UTF8.self) : ""
    }
}

extension Subprocess.Exit {
    /// The most useful part of stderr for a one-line error: the last message, without ffmpeg's
    /// "[h264 @ 0x55...] " component prefix or a leading "path: ". When that is only the generic
    /// "Invalid data found when processing input", the message before it says why ("moov atom not
    /// found") and is put first.
    func lastMessage(strippingPath path: String) -> String? {
        let messages: [String] = stderr.split(whereSeparator: \.isNewline).compactMap { raw in
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                line = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            }
            if line.hasPrefix(path + ": ") { line = String(line.dropFirst(path.count + 2)) }
            return line.isEmpty ? nil : line
        }
        guard let last = messages.last else { return nil }
        if last.hasPrefix("Invalid data found"), let cause = messages.last(where: { $0 != last }) {
            return "\(cause); \(last)"
        }
        return last
    }
}
