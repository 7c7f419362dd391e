/// Work a file may cause beyond reading its own bytes once, shared by a pickle and every stream
/// nested in it. Memo references cost two bytes each and can name a million-element list or a
/// megabyte storage stream again and again; charging every copy and every nested parse against a
/// budget of twice the file's size (a legitimate file parses each nested stream once and copies little) keeps the total work linear in the file, whatever it does.
final class PickleBudget {
    private(set) var remaining: Int

    init(forFileOf size: Int) { remaining = 2 * size + (1 << 20) }

    func spend(_ amount: Int, name: String) throws {
        guard amount <= remaining else {
            throw LinstoryError(.tooLarge, file: name, "pickle asks for more work than its size allows (memo references repeating large objects?)")
        }
        remaining -= amount
    }
}
