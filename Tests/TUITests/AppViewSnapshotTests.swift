import Engine
import Testing
import TUI

/// The whole UI rendered from states, compared with golden text. The goldens were rendered once,
/// read line by line against the layout rules (header, timeline, loss | preview, status bar), and
/// pasted here; a change to the layout shows up as a readable diff.
@Suite("AppView: the rendered screen")
struct AppViewSnapshotTests {
    func render(_ state: AppState, _ capabilities: TerminalCapabilities = .standard) -> RenderedFrame {
        AppView(capabilities: capabilities).render(state)
    }

    static let ascii8 = TerminalCapabilities(colorLevel: .ansi8, unicode: false)

    @Test func sampleAt80x24() {
        let frame = render(AppState.sample(size: Size(width: 80, height: 24)))
        #expect(frame.grid.text == """
             linstory │ sample.mp4 │ bbb64 │ scen… inverting scene 3 of 4 · 5.2 it/s · ETA…
            ┌─ timeline · frame 42 of 240 · scene 1 of 4 ──────────────────────────────────┐
            │scenes                  ┃                    ╳                 ◢              │
            │diff                     ⣷                   ⣀⡀                               │
            │       ⠤⠤⠤⣀⣀⠤⠤⠤⠤⠤⠤⣀⡠⠤⠤⠤⡠⠤⢻⣀⠤⠤⠤⢄⡠⠤⢄⡠⠤⠤⢄⣀⡠⠤⠤⠤⠤⠜ ⠈⠦⠤⠤⠤⠤⠤⣀⡠⠤⠤⠤⠤⠤⢄⣀⠖⠒⠢⠤⠤⠤⣀⣀⠤⠤⠤⣀⠤⠤⣀⠤│
            │loss                                                ··························│
            │       0           ▲42                                                     239│
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌─ loss ───────────────────────┐┌─ preview · frame 42 ─────────────────────────┐
            │per step · scene 1            ││    target      reconstruction   |difference| │
            │0.58┤⠳⡀                       ││                                              │
            │    │ ⠈⠲⣄⡀                    ││                                              │
            │0.08┤    ⠉⠙⠒⠢⠤⠤⠤⢄⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    └─────────────────────────││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │     1                     200││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │final loss per frame          ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │0.22┤⡇     ⡀                  ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⡷⡆ ⢠⢦ ⣇⢶  ⡔⡄⢰⢰⡆          ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⠃⢸ ⡎⠸⡀⣿ ⡇⢰⠁⢣⢸⡇⢸          ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │0.07┤ ⠈⣦⠃ ⢣⡇ ⢸⡜ ⠸⡼⠁⠈⣆         ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀               │
            │    └─────────────────────────││                                              │
            │     0       42: 0.16      239││                                              │
            └──────────────────────────────┘└──────────────────────────────────────────────┘
             ←→ frame  H L scene  c cut  [ ] move cut  r re-run  i interpolate  Tab pane
            """)
        #expect(frame.images.isEmpty)
    }

    @Test func sampleAt120x40() {
        #expect(render(AppState.sample(size: Size(width: 120, height: 40))).grid.text == """
             linstory │ sample.mp4 │ bbb64 │ scene W                                   inverting scene 3 of 4 · 5.2 it/s · ETA 1:23
            ┌─ timeline · frame 42 of 240 · scene 1 of 4 ──────────────────────────────────────────────────────────────────────────┐
            │scenes                            ┃                                ╳                          ◢                       │
            │diff                               ⣷                                                                                  │
            │                                   ⣿                               ⡠⡀                                                 │
            │                                   ⣿                             ⢰⠊ ⠈⡆                       ⡤⠤⠤⠤⡀                    │
            │       ⠤⠤⠒⠢⠤⠤⠤⠤⠤⠒⠒⠢⠤⠤⠤⠤⠤⠤⠤⠤⠔⠒⠒⠢⠤⠤⠤⠤⠻⠤⠤⠤⠔⠒⠒⠢⠤⠤⠤⠤⠤⠤⠤⠤⠒⠒⠒⠤⠤⠤⠤⠤⠤⠤⠤⠤⠒⠒⠊   ⠧⠤⠤⠤⠤⠤⠔⠒⠢⠤⠤⠤⠤⠔⠒⠒⠤⠤⠤⠤⠤⠤⠤⠤⠃   ⠧⠤⠤⠤⠤⠤⠤⠤⠤⠒⠒⠒⠤⠤⠤⠤⠤⠤⠤⠤⠔│
            │loss                                                                         ·········································│
            │       0                  ▲42                                                                                      239│
            └──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
            ┌─ loss ───────────────────────────────────────┐┌─ preview · frame 42 ─────────────────────────────────────────────────┐
            │per step · scene 1                            ││        target              reconstruction           |difference|     │
            │0.58┤⢣                                        ││                                                                      │
            │    │⠈⡆                                       ││                                                                      │
            │    │ ⠘⡄                                      ││                                                                      │
            │    │  ⠱⡀                                     ││                                                                      │
            │    │   ⠱⡄                                    ││                                                                      │
            │    │    ⠘⢄                                   ││                                                                      │
            │    │     ⠈⠳⣄                                 ││                                                                      │
            │    │       ⠈⠓⢄⡀                              ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │          ⠉⠓⠦⢄⣀                          ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │0.08┤              ⠈⠉⠉⠒⠒⠒⠤⠤⠤⠤⠤⠤⣄⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    └─────────────────────────────────────────││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │     1                                     200││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │final loss per frame                          ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │0.22┤⡇                                        ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⡇                                        ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⡇         ⡇                              ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⡇⣠    ⢠⡄  ⡇⢀⡄    ⣠  ⢰ ⢠⡄                 ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⣧⠋⡆   ⡇⢱  ⡇⢸⢸   ⢀⠇⡇ ⢸ ⡜⢱                 ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀│
            │    │⣿ ⢣  ⢠⠃⢸  ⡇⡇ ⡇  ⢸ ⢣ ⢸ ⡇⠸⡀                ││▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀ ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀                       │
            │    │⠇ ⢸  ⢸  ⡇ ⡇⡇ ⡇  ⡸ ⢸ ⢸⢰⠁ ⡇                ││                                                                      │
            │    │  ⠸⡀ ⡜  ⡇ ⣿  ⢸  ⡇ ⠘⡄⢸⢸  ⢇                ││                                                                      │
            │    │   ⡇ ⡇  ⢸ ⡿  ⠘⡄⢀⠇  ⡇⢸⡎  ⢸                ││                                                                      │
            │    │   ⢣⢠⠃  ⢸ ⡇   ⡇⢸   ⢣⢸⠇  ⠸⡀               ││                                                                      │
            │0.07┤   ⠸⡜    ⣧⠃   ⢱⡎   ⠸⡸    ⣇               ││                                                                      │
            │    └─────────────────────────────────────────││                                                                      │
            │     0               42: 0.16              239││                                                                      │
            └──────────────────────────────────────────────┘└──────────────────────────────────────────────────────────────────────┘
             ←→ frame  H L scene  c cut  [ ] move cut  r re-run  i interpolate  Tab pane  ? help  q quit
            """)
    }

    @Test func emptyPanesSayWhy() {
        var s = AppState(size: Size(width: 80, height: 24))
        s.videoName = "clip.mp4"
        s.modelName = "bbb64"
        s.method = .scene
        s.space = .w
        s.frameCount = 120
        #expect(render(s).grid.text == """
             linstory │ clip.mp4 │ bbb64 │ scene W                                     idle
            ┌─ timeline · frame 0 of 120 · scene 1 of 1 ───────────────────────────────────┐
            │scenes                                                                        │
            │diff                           no scene detection yet                         │
            │                                                                              │
            │loss   no inversion yet: press r                                              │
            │       ▲0                                                                  119│
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌─ loss ───────────────────────┐┌─ preview · frame 0 ──────────────────────────┐
            │per step                      ││    target      reconstruction   |difference| │
            │                              ││                                              │
            │                              ││                                              │
            │  no inversion yet: press r   ││                                              │
            │                              ││                                              │
            │                              ││                                              │
            │final loss per frame          ││       —               —              —       │
            │                              ││                                              │
            │                              ││                                              │
            │  no inversion yet: press r   ││                                              │
            │                              ││                                              │
            │                              ││                                              │
            │                              ││          no inversion yet: press r           │
            └──────────────────────────────┘└──────────────────────────────────────────────┘
             ←→ frame  H L scene  c cut  [ ] move cut  r re-run  i interpolate  Tab pane
            """)
    }

    @Test func tooSmall() {
        #expect(render(AppState.sample(size: Size(width: 50, height: 15))).grid.text == """






                       terminal too small: 50 x 15
                              needs 60 x 18
                                 q quits






            """)
    }

    @Test func helpOverlay() {
        var s = AppState.sample(size: Size(width: 80, height: 24))
        s.showHelp = true
        #expect(render(s).grid.text == """
             linstory │ sample.mp4 │ bbb64 │ scen… inverting scene 3 of 4 · 5.2 it/s · ETA…
            ┌─ tim┌─ Keys ──────────────────────────────────────────────────────────┐──────┐
            │scene│ Move                                                            │      │
            │diff │   ← →  h l        previous / next frame                         │      │
            │     │   H L  PgUp PgDn  previous / next scene                         │⠤⣀⠤⠤⣀⠤│
            │loss │   Home End  G     first / last frame                            │······│
            │     │   g               go to a frame or a time (1234, 83.5s, 1:23)   │   239│
            └─────│   + -  z  wheel   timeline: zoom in / out; whole, scene, frames │──────┘
            ┌─ los│   j k             timeline: 10 frames; loss: log / linear scale │──────┐
            │per s│   Tab  Shift-Tab  next / previous pane                          │ence| │
            │0.58┤│   click           timeline: go to the frame; a pane: focus it   │      │
            │    ││                                                                 │      │
            │0.08┤│ Cuts                                                            │▀▀▀▀▀▀│
            │    └│   c               add or remove a cut at the cursor             │▀▀▀▀▀▀│
            │     │   [ ]             move the nearest cut one frame                │▀▀▀▀▀▀│
            │final│   r               re-run inversion for the scenes edits touched │▀▀▀▀▀▀│
            │0.22┤│                                                                 │▀▀▀▀▀▀│
            │    ││ Interpolation                                                   │▀▀▀▀▀▀│
            │    ││   i               interpolation mode on / off (Esc leaves)      │▀▀▀▀▀▀│
            │0.07┤│   ← →  h l        move t one step (beyond 0 and 1 extrapolates) │      │
            │    └│                                                                 │      │
            │     │           lines 1-18 of 31 · j k scroll · ? Esc close           │      │
            └─────└─────────────────────────────────────────────────────────────────┘──────┘
             j k scroll  ? Esc q close help
            """)
    }

    @Test func interpolationModeWithoutImagesYet() {
        var s = AppState.sample(size: Size(width: 80, height: 24))
        s.mode = .interpolate
        #expect(render(s).grid.text == """
             linstory │ sample.mp4 │ bbb64 │ scen… inverting scene 3 of 4 · 5.2 it/s · ETA…
            ┌─ timeline · frame 42 of 240 · scene 1 of 4 ──────────────────────────────────┐
            │scenes                  ┃                    ╳                 ◢              │
            │diff                     ⣷                   ⣀⡀                               │
            │       ⠤⠤⠤⣀⣀⠤⠤⠤⠤⠤⠤⣀⡠⠤⠤⠤⡠⠤⢻⣀⠤⠤⠤⢄⡠⠤⢄⡠⠤⠤⢄⣀⡠⠤⠤⠤⠤⠜ ⠈⠦⠤⠤⠤⠤⠤⣀⡠⠤⠤⠤⠤⠤⢄⣀⠖⠒⠢⠤⠤⠤⣀⣀⠤⠤⠤⣀⠤⠤⣀⠤│
            │loss                                                ··························│
            │       0           ▲42                                                     239│
            └──────────────────────────────────────────────────────────────────────────────┘
            ┌─ loss ───────────────────────┐┌─ interpolation · frames 0 to 59 ─────────────┐
            │per step · scene 1            ││                                              │
            │0.58┤⠳⡀                       ││                                              │
            │    │ ⠈⠲⣄⡀                    ││                                              │
            │0.08┤    ⠉⠙⠒⠢⠤⠤⠤⢄⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀││                                              │
            │    └─────────────────────────││                                              │
            │     1                     200││                  rendering…                  │
            │final loss per frame          ││                                              │
            │0.22┤⡇     ⡀                  ││                                              │
            │    │⡷⡆ ⢠⢦ ⣇⢶  ⡔⡄⢰⢰⡆          ││                                              │
            │    │⠃⢸ ⡎⠸⡀⣿ ⡇⢰⠁⢣⢸⡇⢸          ││                                              │
            │0.07┤ ⠈⣦⠃ ⢣⡇ ⢸⡜ ⠸⡼⠁⠈⣆         ││                                              │
            │    └─────────────────────────││t  ┄┄┄├────●────┤┄┄  t = 0.50                 │
            │     0       42: 0.16      239││      0         1                             │
            └──────────────────────────────┘└──────────────────────────────────────────────┘
             ←→ t  + - step  p play  1 2 pin  H L scene  Esc back  ? help  q quit
            """)
    }

    @Test func asciiAndEightColours() {
        #expect(render(AppState.sample(size: Size(width: 80, height: 24)), Self.ascii8).grid.text == """
             linstory | sample.mp4 | bbb64 | scen~ inverting scene 3 of 4 - 5.2 it/s - ETA~
            +- timeline - frame 42 of 240 - scene 1 of 4 ----------------------------------+
            |scenes                  |....................x                 /..............|
            |diff                     *                   **                               |
            |       ****************** *******************  *******************************|
            |loss                                                ..........................|
            |       0           ^42                                                     239|
            +------------------------------------------------------------------------------+
            +- loss -----------------------++- preview - frame 42 -------------------------+
            |per step - scene 1            ||    target      reconstruction   |difference| |
            |0.58|**                       ||                                              |
            |    | *****                   ||                                              |
            |0.08|     ********************||=============== ===============               |
            |    +-------------------------||+++++***+++++++ +++++*#*+++++++               |
            |     1                     200||++++#%%%*++++++ ++++%%%%*++++++               |
            |final loss per frame          ||++++*##*+++++++ ++++*###+++++++               |
            |0.22|*                        ||*************** ***************               |
            |    ||* ** **  *****          ||+++++++++++++++ +++++++++++++++               |
            |    |** |**| ***||**          ||--------------- ---------------               |
            |0.07|  ** ** ** **  *         ||--------------- ---------------               |
            |    +-------------------------||                                              |
            |     0       42: 0.16      239||                                              |
            +------------------------------++----------------------------------------------+
             <> frame  H L scene  c cut  [ ] move cut  r re-run  i interpolate  Tab pane
            """)
    }

    @Test func stylesCarryFocusCursorAndHeat() {
        let s = AppState.sample(size: Size(width: 80, height: 24))
        let layout = AppLayout(size: s.size)
        var grid = render(s).grid
        // The focused pane's border is cyan, the others grey.
        #expect(grid[layout.timeline.x, layout.timeline.y].foreground == .cyan)
        #expect(grid[layout.loss.x, layout.loss.y].foreground == .indexed(244))
        // The cursor's strip cell is reversed; a scanned frame's heat cell has a colour.
        let data = layout.timeline.x + 8, width = layout.timeline.width - 9
        #expect(grid[data + 42 * width / 240, layout.timeline.y + 1].attributes.contains(.reverse))
        if case .indexed = grid[data, layout.timeline.y + 4].background {} else { Issue.record("no heat colour") }
        // Tab moves the highlight.
        grid = render(AppUpdate.update(s, .tab).state).grid
        #expect(grid[layout.loss.x, layout.loss.y].foreground == .cyan)
    }

    @Test func sixelPreviewsArePlacementsOverBlankCells() throws {
        let sixel = TerminalCapabilities(colorLevel: .ansi256, unicode: true, sixel: true)
        var s = AppState.sample(size: Size(width: 120, height: 40))
        let frame = render(s, sixel)
        #expect(frame.images.count == 3)
        for placement in frame.images {
            // Under the image the grid is blank, and no image reaches the status bar's row.
            #expect(frame.grid.text(in: placement.rect).allSatisfy { $0 == " " || $0 == "\n" })
            #expect(placement.rect.maxY < 39)
            // 10x20-pixel cells: the 64x64 frame is scaled to fill the cells' pixels.
            #expect(placement.image.width <= placement.rect.width * 10 && placement.image.height <= placement.rect.height * 20)
            #expect(placement.image.width == placement.image.height)
        }
        // The help overlay hides the images (sixel would paint over it).
        s.showHelp = true
        #expect(render(s, sixel).images.isEmpty)
    }
}
