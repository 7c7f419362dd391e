import Testing
import TUI

@Suite("Terminal capabilities: replies and decisions")
struct TerminalCapabilitiesTests {
    static let esc = "\u{1B}"

    @Test func xtermInVT340ModeAnswersWithSixel() {
        let reply = TerminalProbeReply.parse(Array("\(Self.esc)[6;20;10t\(Self.esc)[?1;0;256S\(Self.esc)[?63;1;2;4;6;9;15;22c".utf8))
        #expect(reply.deviceAttributes == [63, 1, 2, 4, 6, 9, 15, 22])
        #expect(reply.supportsSixel)
        #expect(reply.cellPixelSize == Size(width: 10, height: 20))
        #expect(reply.sixelColorRegisters == 256)
    }

    @Test func tmuxAnswersWithoutSixel() {
        let reply = TerminalProbeReply.parse(Array("\(Self.esc)[?1;2c".utf8))
        #expect(reply.isComplete)
        #expect(!reply.supportsSixel)
        #expect(reply.cellPixelSize == nil)
    }

    @Test func aVT420AnswerIsNotSixelAndStrayKeysAreIgnored() {
        let reply = TerminalProbeReply.parse(Array("jk\(Self.esc)[?64;1;2;6;9;15;18;21;22c".utf8))
        #expect(!reply.supportsSixel)
        let partial = TerminalProbeReply.parse(Array("\(Self.esc)[?63;1;4".utf8))
        #expect(!partial.isComplete)
    }

    @Test func detection() {
        let xterm = TerminalProbeReply(deviceAttributes: [63, 4], cellPixelSize: Size(width: 7, height: 14), sixelColorRegisters: 16)
        let caps = TerminalCapabilities.detect(environment: ["COLORTERM": "truecolor"], ncursesColors: 256, codeset: "UTF-8",
                                               probe: xterm, imagesOverride: nil)
        #expect(caps.colorLevel == .truecolor)
        #expect(caps.unicode && caps.sixel)
        #expect(caps.images == .sixel)
        #expect(caps.cellPixelSize == Size(width: 7, height: 14))
        #expect(caps.sixelColorRegisters == 16)

        let tmux = TerminalCapabilities.detect(environment: [:], ncursesColors: 256, codeset: "UTF-8",
                                              probe: TerminalProbeReply(deviceAttributes: [1, 2]), imagesOverride: nil)
        #expect(tmux.colorLevel == .ansi256 && tmux.images == .blocks && tmux.cellPixelSize == Size(width: 10, height: 20))

        let plain = TerminalCapabilities.detect(environment: [:], ncursesColors: 8, codeset: "ANSI_X3.4-1968", probe: nil, imagesOverride: nil)
        #expect(plain.colorLevel == .ansi8 && !plain.unicode && plain.images == .ascii)

        let noColor = TerminalCapabilities.detect(environment: ["NO_COLOR": "1"], ncursesColors: 256, codeset: "UTF-8", probe: nil, imagesOverride: .blocks)
        #expect(noColor.colorLevel == .monochrome && noColor.images == .ascii)

        let forced = TerminalCapabilities.detect(environment: [:], ncursesColors: 256, codeset: "UTF-8", probe: nil, imagesOverride: .sixel)
        #expect(forced.images == .sixel && !forced.sixel)
    }
}

@Suite("Key decoding and locale")
struct KeyDecodingTests {
    @Test func controlCharactersGetNames() {
        #expect(Terminal.decodeCharacter(9) == .tab)
        #expect(Terminal.decodeCharacter(13) == .enter)
        #expect(Terminal.decodeCharacter(10) == .enter)
        #expect(Terminal.decodeCharacter(27) == .escape)
        #expect(Terminal.decodeCharacter(127) == .backspace)
        #expect(Terminal.decodeCharacter(12) == .control("l"))
        #expect(Terminal.decodeCharacter(UInt32(("q" as Unicode.Scalar).value)) == .character("q"))
        #expect(Terminal.decodeCharacter(0xE9) == .character("é"))
        #expect(Terminal.decodeCharacter(0) == nil)
    }

    @Test func localeNames() {
        #expect(TerminalCapabilities.localeIsUTF8(environment: ["LANG": "C.UTF-8"]))
        #expect(TerminalCapabilities.localeIsUTF8(environment: ["LC_ALL": "en_US.utf8", "LANG": "C"]))
        #expect(!TerminalCapabilities.localeIsUTF8(environment: ["LC_ALL": "C", "LANG": "C.UTF-8"]))
        #expect(!TerminalCapabilities.localeIsUTF8(environment: [:]))
    }
}
