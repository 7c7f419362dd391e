/// A key press, click or terminal event, decoded from ncurses so the rest of the UI never sees
/// ncurses' codes.
public enum Key: Hashable, Sendable {
    case up, down, left, right
    case pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace, delete
    /// A printable character, as typed (so `L` and `l` differ).
    case character(Character)
    /// Ctrl plus a letter, other than the ones with their own case (Tab is Ctrl-I, Enter Ctrl-M).
    case control(Character)
    case function(Int)
    /// A left-button press at a cell, zero-based from the top-left corner.
    case click(x: Int, y: Int)
    /// The mouse wheel at a cell: -1 rolled up (away from the user), 1 down.
    case wheel(x: Int, y: Int, direction: Int)
    /// The terminal changed size; the new size in cells.
    case resize(Size)
    /// Ctrl-C, SIGTERM or SIGHUP: the app should save and quit.
    case interrupt
}
