import Engine
import Testing

/// The silence a child's watchdog counts: polls of at most a second, and time this process spent
/// stopped and continued counted as the poll it asked for, not as the child's stall.
/// (`VideoErrorTests.stalledFFmpegIsKilled` checks a real stalled child is still killed.)
@Suite("StallClock: a stopped job is not a stalled child")
struct StallClockTests {
    @Test func aMinuteOfSilentPollsExpiresAMinuteTimeout() {
        var clock = StallClock(timeout: 60)
        for _ in 0..<59 { clock.record(asked: clock.nextPoll, took: 1) }
        #expect(!clock.expired)
        clock.record(asked: clock.nextPoll, took: 1)
        #expect(clock.expired)
    }

    @Test func timeSpentStoppedCountsAsThePollItAskedFor() {
        var clock = StallClock(timeout: 60)
        clock.record(asked: clock.nextPoll, took: 1)
        // Suspended for five minutes in the middle of a poll, then continued.
        clock.record(asked: clock.nextPoll, took: 300)
        #expect(!clock.expired)
        #expect(clock.silent <= 2.25)
        // A child that then stays silent is still caught, a minute of silence after it began
        // (the stopped poll counted as 1.25 s).
        var polls = 0
        while !clock.expired {
            clock.record(asked: clock.nextPoll, took: clock.nextPoll)
            polls += 1
        }
        #expect(polls == 58)
    }

    @Test func pollsAskForASecondOrWhatIsLeft() {
        var clock = StallClock(timeout: 2.5)
        var asked: [Double] = []
        while !clock.expired {
            asked.append(clock.nextPoll)
            clock.record(asked: asked.last!, took: asked.last!)
        }
        #expect(asked == [1, 1, 0.5])
        #expect(StallClock(timeout: 0).expired)
    }
}
