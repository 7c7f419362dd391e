import Foundation

/// Ctrl-C (SIGINT) and SIGTERM (what `scancel`, `timeout` and `kill` send) as a request: long
/// commands poll `Interrupt.requested`, save what is done, and exit.
enum Interrupt {
    nonisolated(unsafe) static var requested = false

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested { _exit(130) }  // a second Ctrl-C does not wait
            Interrupt.requested = true
        }
        signal(SIGTERM) { _ in
            if Interrupt.requested { _exit(143) }
            Interrupt.requested = true
        }
    }
}
