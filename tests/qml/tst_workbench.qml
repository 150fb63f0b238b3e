import QtQuick
import QtQuick.Controls
import QtTest
import Weir.Workbench
import WeirTest

// Drives the workbench like a person: open a sample, drag an operator from the palette onto
// the canvas, connect it by dragging from a port, type an expression into the inspector
// (with its live check and completion), undo with the keyboard, save, and reopen.
//
//   bids --> pricey --> euros --> out          (samples/bid-stats.weir.json)
//               \
//                +--> filter   (added from the palette, connected by dragging)
Item {
    id: root
    width: 400
    height: 300

    Component { id: mainWindow; Main {} }

    TestCase {
        id: tc
        name: "Workbench"
        when: windowShown

        property var win: null
        property var doc: null

        function open(path) {
            win = createTemporaryObject(mainWindow, root, { jobPath: path })
            verify(win !== null)
            doc = win.document
            // Validation on the UI thread, so that every check right after an edit is
            // deterministic (Auto moves it to a worker after one slow run on a busy machine).
            doc.validationMode = JobDocument.Synchronous
            win.requestActivate()  // keys go to the active window
            tryVerify(() => win.active, 3000)
            tryVerify(() => win.canvas.width > 0 && !win.canvas.fitPending, 3000)
            waitForRendering(win.contentItem)
        }
        function find(name) {
            const item = findChild(win.contentItem, name)
            verify(item !== null, "no item " + name)
            return item
        }
        function centre(item) { return item.mapToItem(win.contentItem, item.width / 2, item.height / 2) }
        function typeText(text) { for (const c of text) keyClick(c) }
        function findButton(item, text) {
            if (!item) return null
            if (item.visible && item.text === text && item.clicked !== undefined) return item
            const kids = item.children || []
            for (let i = 0; i < kids.length; ++i) {
                const f = findButton(kids[i], text)
                if (f) return f
            }
            return null
        }

        function test_1_addConnectEditUndoSaveReopen() {
            const path = TestEnv.freshSample("job.weir.json")
            open(path)
            compare(doc.nodes.count, 4)
            compare(doc.edges.count, 3)
            compare(find("validityBadge").text, "✓ valid")

            // Hovering an edge's handle shows what flows on it.
            const handle = find("edgeHandle_pricey_euros")
            mouseMove(handle, handle.width / 2, handle.height / 2)
            tryVerify(() => handle.ToolTip.visible, 2000)
            verify(handle.ToolTip.text.indexOf("pricey.out → euros.in") === 0, handle.ToolTip.text)
            verify(handle.ToolTip.text.indexOf("price:int64") > 0, handle.ToolTip.text)
            mouseMove(win.canvas, 5, 5)

            // Drag "Filter" from the palette onto the canvas, below the pricey node.
            const entry = find("palette_filter")
            const canvas = win.canvas
            const pricey = find("node_pricey")
            const target = pricey.mapToItem(canvas, pricey.width / 2, pricey.height + 140)
            mousePress(entry, 30, 15)
            for (let i = 1; i <= 10; ++i) {
                const p = entry.mapFromItem(canvas, target.x * i / 10, target.y * i / 10)
                mouseMove(entry, 30 + (p.x - 30) * i / 10, 15 + (p.y - 15) * i / 10)
            }
            const drop = entry.mapFromItem(canvas, target.x, target.y)
            mouseMove(entry, drop.x, drop.y)
            mouseRelease(entry, drop.x, drop.y)
            tryCompare(doc.nodes, "count", 5)
            verify(doc.hasNode("filter"))
            compare(doc.selectedNodes, ["filter"])
            waitForRendering(win.contentItem)

            // Connect pricey.out -> filter.in by dragging between the ports.
            const from = find("out_pricey_out"), to = find("in_filter_in")
            mousePress(from, 5, 5)
            const mid = from.mapFromItem(to, 5, 5)
            mouseMove(from, 5 + mid.x / 2, 5 + mid.y / 2)
            mouseMove(from, mid.x, mid.y)
            compare(canvas.connTargetNode, "filter")
            compare(canvas.connRefusal, "")
            mouseRelease(from, mid.x, mid.y)
            compare(doc.edges.count, 4)

            // A refused connection says why: bids -> pricey exists already.
            const b = find("out_bids_out"), p2 = find("in_pricey_in")
            mousePress(b, 5, 5)
            const m2 = b.mapFromItem(p2, 5, 5)
            mouseMove(b, m2.x / 2, m2.y / 2)
            mouseMove(b, m2.x, m2.y)
            compare(canvas.connRefusal, "that edge already exists")
            mouseRelease(b, m2.x, m2.y)
            compare(doc.edges.count, 4)
            compare(find("noticeLabel").text, "Cannot connect: that edge already exists")

            // The new filter misses `where`: a problem, shown in the badge and the list.
            compare(doc.problemTexts(), ["filter: where: missing required param",
                                         "filter: output port 'out' is not connected (end the branch with a sink, e.g. sink.discard)"])
            compare(find("validityBadge").text, "2 problems")

            // Click the first problem: the filter is selected and the inspector shows `where`.
            doc.clearSelection()
            const list = find("problemList")
            mouseClick(list.itemAtIndex(0))
            compare(doc.selectedNodes, ["filter"])
            compare(doc.inspector.focusPath, "where")
            waitForRendering(win.contentItem)

            // Type an expression: checked as typed, completion offers the field.
            const area = find("expr_where")
            mouseClick(area)
            verify(area.activeFocus)
            typeText("pri")
            const field = area.parent
            const completions = field.completionView
            tryVerify(() => completions.count > 0)
            compare(completions.model[0].text, "price")
            keyClick(Qt.Key_Tab)
            compare(area.text, "price")
            typeText(" < 'x'")
            verify(!field.check.ok)
            compare(field.check.message, "cannot compare int64 with string")
            for (let i = 0; i < 3; ++i) keyClick(Qt.Key_Backspace)
            typeText("10")
            verify(field.check.ok)
            compare(field.check.type, "bool")
            keyClick(Qt.Key_Return)
            compare(doc.paramValue("filter", "where"), "price < 10")
            compare(doc.problemTexts(), ["filter: output port 'out' is not connected (end the branch with a sink, e.g. sink.discard)"])

            // Undo with the keyboard once the focus is back on the canvas.
            mouseClick(canvas, canvas.width - 30, 30)
            verify(canvas.activeFocus)
            keySequence(StandardKey.Undo)
            compare(doc.paramValue("filter", "where"), undefined)
            keySequence("Ctrl+Shift+Z")
            compare(doc.paramValue("filter", "where"), "price < 10")

            // Save with Ctrl+S, then reopen: everything is there, positions included.
            verify(doc.dirty)
            keySequence(StandardKey.Save)
            verify(!doc.dirty)
            const text = TestEnv.readFile(path)
            verify(text.indexOf('"where": "price < 10"') >= 0, text)
            const where = doc.nodeRect("filter")
            win.destroy()
            wait(0)
            open(path)
            compare(doc.nodes.count, 5)
            compare(doc.edges.count, 4)
            compare(doc.nodeRect("filter"), where)
            compare(doc.paramValue("filter", "where"), "price < 10")
            verify(!doc.dirty)
            verify(!doc.recoveryAvailable)
        }

        function test_2_moveSelectDeleteAndLayout() {
            open(TestEnv.freshSample("move.weir.json"))
            const canvas = win.canvas
            const euros = find("node_euros")
            const before = doc.nodeRect("euros")
            // Drag the node by its body.
            mousePress(euros, 40, 30)
            mouseMove(euros, 60, 50)
            mouseMove(euros, 80, 90)
            mouseRelease(euros, 80, 90)
            const after = doc.nodeRect("euros")
            verify(after.y > before.y + 20, after.y + " vs " + before.y)
            keySequence(StandardKey.Undo)
            compare(doc.nodeRect("euros"), before)

            // Rubber band (Shift+drag on the background) around bids and pricey.
            const b = find("node_bids"), p = find("node_pricey")
            const tl = b.mapToItem(canvas, -10, -10), br = p.mapToItem(canvas, p.width + 10, p.height + 10)
            mousePress(canvas, tl.x, tl.y, Qt.LeftButton, Qt.ShiftModifier)
            mouseMove(canvas, (tl.x + br.x) / 2, (tl.y + br.y) / 2, -1, Qt.LeftButton, Qt.ShiftModifier)
            mouseMove(canvas, br.x, br.y, -1, Qt.LeftButton, Qt.ShiftModifier)
            mouseRelease(canvas, br.x, br.y, Qt.LeftButton, Qt.ShiftModifier)
            compare(doc.selectedNodes, ["bids", "pricey"])

            // Delete them, undo, copy and paste one.
            keyClick(Qt.Key_Delete)
            compare(doc.nodes.count, 2)
            keySequence(StandardKey.Undo)
            compare(doc.nodes.count, 4)
            doc.selectNode("pricey")
            keySequence(StandardKey.Copy)
            keySequence(StandardKey.Paste)
            compare(doc.nodes.count, 5)
            compare(doc.selectedNodes, ["pricey_2"])

            // Auto-layout from the tool bar, zoom keys and fit.
            mouseClick(find("layoutButton"))
            compare(doc.undoText, "Auto-layout")
            canvas.forceActiveFocus()
            const z = canvas.zoom
            keyClick(Qt.Key_Plus)
            verify(canvas.zoom > z)
            keyClick(Qt.Key_Minus)
            fuzzyCompare(canvas.zoom, z, 1e-6)
            keyClick(Qt.Key_F)
            verify(canvas.zoom > 0)
        }

        function test_3_inspectorEditors() {
            open(TestEnv.freshSample("edit.weir.json"))
            doc.selectNode("bids")
            waitForRendering(win.contentItem)
            // An enum through its combo box.
            const combo = find("combo_format")
            compare(combo.currentText, "csv")
            doc.setParam("bids", "format", "jsonl")
            compare(combo.currentText, "jsonl")
            // A bool through its switch.
            const sw = find("switch_header")
            verify(sw.checked)
            mouseClick(sw)
            compare(doc.paramValue("bids", "header"), false)
            // Renaming through the id field; the edges follow.
            const idField = find("nodeIdField")
            mouseClick(idField)
            keySequence(StandardKey.SelectAll)
            typeText("bids2")
            keyClick(Qt.Key_Return)
            verify(doc.hasNode("bids2"))
            compare(doc.edgeInfo(doc.edges.data(doc.edges.index(0, 0), 257)).from, "bids2")
            // With nothing selected, the job's settings: checkpoints and restarts both work,
            // so both switches are offered and neither is marked unavailable.
            doc.clearSelection()
            waitForRendering(win.contentItem)
            const settings = find("jobSettings")
            const cp = findChild(settings, "switch_checkpoint")
            verify(cp.enabled)
            mouseClick(cp)
            verify(doc.toText().indexOf("\"checkpoint\"") >= 0, doc.toText())
            mouseClick(cp)
            verify(doc.toText().indexOf("\"checkpoint\"") < 0, doc.toText())
            verify(!findChild(settings, "unavailable_checkpoint").visible)
            verify(!findChild(settings, "unavailable_restart").visible)
            const rs = findChild(settings, "switch_restart")
            verify(rs.enabled)
            mouseClick(rs)
            verify(doc.toText().indexOf("\"restart\"") >= 0, doc.toText())
            mouseClick(rs)
            verify(doc.toText().indexOf("\"restart\"") < 0, doc.toText())
        }

        // The inspector tells what each param is for, leaves unset numbers empty, hides what
        // does not apply to the window's shape, and fixes a misspelt field in one click.
        function test_3b_inspectorHonesty() {
            open(TestEnv.freshSample("honest.weir.json"))
            const id = doc.addNode("window", 300, 400)
            doc.selectNode(id)
            waitForRendering(win.contentItem)
            // Docs inline, without hovering.
            verify(find("doc_allowed_lateness_ms").visible)
            verify(find("doc_allowed_lateness_ms").text.indexOf("late records") > 0, find("doc_allowed_lateness_ms").text)
            // window.size_ms is unset and has no default: its box is empty, not "1".
            compare(find("spin_window.size_ms").contentItem.text, "")
            // A tumbling window has no slide and no gap.
            doc.setParam(id, "window.type", "tumbling")
            waitForRendering(win.contentItem)
            verify(find("param_window.size_ms").visible)
            verify(!find("param_window.slide_ms").visible)
            verify(!find("param_window.gap_ms").visible)
            doc.setParam(id, "window.type", "session")
            waitForRendering(win.contentItem)
            verify(!find("param_window.size_ms").visible)
            verify(find("param_window.gap_ms").visible)

            // Did you mean: the problem offers the fix, a click applies it.
            doc.removeNodes([id])
            doc.setParam("pricey", "where", "prize > 1000")
            compare(doc.problemCount, 1)
            mouseClick(find("bottomTabs").itemAt(0))
            waitForRendering(win.contentItem)
            const fix = find("fix_0")
            verify(fix.visible)
            compare(fix.text, "Use 'price'")
            mouseClick(fix)
            compare(doc.paramValue("pricey", "where"), "price > 1000")
            compare(doc.problemCount, 0)
            // And in the inspector, under the param.
            doc.setParam("pricey", "where", "prize > 1000")
            doc.selectNode("pricey")
            waitForRendering(win.contentItem)
            const fix2 = find("fix_where")
            verify(fix2.visible, "fix " + fix2.problem + " " + JSON.stringify(fix2.fix) + " " + doc.problemTexts())
            mouseClick(fix2)
            compare(doc.paramValue("pricey", "where"), "price > 1000")

            // Nodes added from the keyboard (Enter in the palette) do not pile up.
            const search = find("paletteSearch")
            mouseClick(search)
            for (const c of "discard") keyClick(c)
            keyClick(Qt.Key_Return)
            const first = doc.selectedNodes[0]
            mouseClick(search)
            keyClick(Qt.Key_Return)
            const second = doc.selectedNodes[0]
            verify(first !== second)
            const a = doc.nodeRect(first), b = doc.nodeRect(second)
            verify(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y,
                   JSON.stringify([a, b]))
        }

        // 200 nodes: panning and dragging a selection stay smooth (logged, with a generous bound).
        function test_4_twoHundredNodes() {
            open("")
            let nodes = [], edges = []
            for (let c = 0; c < 50; ++c) {
                const p = "c" + c + "_"
                nodes.push({id: p + "src", type: "source.generator", params: {table: "bid", events: 10}},
                           {id: p + "f", type: "filter", params: {where: "price > 1000"}},
                           {id: p + "m", type: "map", params: {fields: [{name: "a", expr: "auction * 2"}]}},
                           {id: p + "o", type: "sink.discard"})
                edges.push({from: p + "src", to: p + "f"}, {from: p + "f", to: p + "m"}, {from: p + "m", to: p + "o"})
            }
            const pasted = doc.paste(JSON.stringify({weir: 1, nodes: nodes, edges: edges}), 0, 0)
            compare(pasted.length, 200)
            verify(doc.valid)
            doc.autoLayout()
            const canvas = win.canvas
            canvas.zoom = 0.5
            waitForRendering(win.contentItem)
            // The graph does not fit: the minimap shows, and clicking it moves the view.
            const minimap = find("minimap")
            verify(minimap.visible)
            const px = canvas.panX
            mouseClick(minimap, minimap.width - 10, minimap.height / 2)
            verify(canvas.panX < px)
            let t0 = Date.now()
            const frames = 20
            for (let i = 0; i < frames; ++i) {
                canvas.panX -= 15
                waitForRendering(win.contentItem)
            }
            const pan = (Date.now() - t0) / frames
            function dragFrames(ids) {
                doc.selectNodes(ids)
                const t = Date.now()
                for (let i = 0; i < frames; ++i) {
                    canvas.dragDelta = Qt.point(i, i)
                    waitForRendering(win.contentItem)
                }
                canvas.dragDelta = Qt.point(0, 0)
                return (Date.now() - t) / frames
            }
            const drag = dragFrames(["c3_src", "c3_f", "c3_m", "c3_o"])
            const t1 = Date.now()
            for (let i = 0; i < frames; ++i) canvas.dragDelta = Qt.point(i + 100, i)
            const bindings = (Date.now() - t1) / frames
            canvas.dragDelta = Qt.point(0, 0)
            const dragAll = dragFrames(pasted)
            t0 = Date.now()
            doc.moveNodes(doc.selectedNodes, 5, 5)
            const move = Date.now() - t0
            console.log("200 nodes, offscreen software renderer: pan " + pan.toFixed(1) + " ms/frame; drag of 4 nodes " +
                        drag.toFixed(1) + " ms/frame (bindings " + bindings.toFixed(1) + " ms); drag of all 200 " +
                        dragAll.toFixed(1) + " ms/frame; the move edit of 200 nodes " + move + " ms")
            // Figures only (timings on a shared machine are no assertion): bench/README.md.
            compare(doc.selectedNodes.length, 200)
        }
    
        // Run: the Run button starts the local cluster (real daemons), the job runs to
        // FINISHED, the canvas and the run panel show its figures, and its output equals
        // the in-process runtime's.
        function test_5_runOnTheLocalCluster() {
            const path = TestEnv.freshRunnableSample("run.weir.json")
            open(path)
            win.runController.dataDir = TestEnv.dir + "/cluster"
            win.runController.pollIntervalMs = 200
            compare(find("runButton").enabled, true)
            mouseClick(find("runButton"))
            compare(find("bottomTabs").currentIndex, 1)  // the Run tab shows the run
            tryVerify(() => win.runController.jobStatus === "FINISHED", 60000,
                      "status " + win.runController.jobStatus + " " + win.runController.lastError + win.runController.failure)
            tryVerify(() => find("runBadge").text.indexOf("FINISHED") === 0, 2000)
            compare(find("runStatus").text, "bid-stats FINISHED")
            // An ended job shows what it did in all, not its last rates: the source's pill
            // and the edge's count.
            tryVerify(() => find("live_bids").visible, 5000)
            tryVerify(() => find("live_bids").text.indexOf("out ") === 0, 5000, find("live_bids").text)
            verify(find("live_bids").text.indexOf("/s") < 0, find("live_bids").text)
            verify(find("live_bids").text.indexOf("3 dead letters") > 0, find("live_bids").text)  // the sample's malformed rows
            const handle = find("edgeHandle_bids_pricey")
            verify(handle.children[0].text.indexOf("/s") < 0 && handle.children[0].text !== "", handle.children[0].text)
            // The watermark is whole and means something: no lag of the CSV's old times
            // against today, never the year -292275056.
            const wm = find("watermark_pricey")
            verify(wm.text.indexOf("lag") < 0 && wm.text.indexOf("-292275056") < 0, wm.text)
            // The totals, and where the output went.
            verify(find("runTotals").visible)
            const outRow = find("total_out")
            verify(outRow.text.indexOf(TestEnv.dir + "/out/pricey-bids.csv") > 0, outRow.text)
            doc.selectNode("pricey")
            tryVerify(() => find("runPanel").stats.subtasks !== undefined, 2000)
            compare(find("runPanel").stats.subtasks.length, 2)  // the sample runs at parallelism 2
            const produced = TestEnv.sortedLines(TestEnv.dir + "/out/pricey-bids.csv")
            const expected = TestEnv.runInProcess(path, "out", TestEnv.dir + "/expected.csv")
            verify(produced.length > 1)
            compare(produced, expected)
            compare(find("cancelButton").enabled, false)

            // Another document with the same node ids: none of that run shows on it.
            const other = TestEnv.freshSample("other.weir.json")
            win.openFile(other)
            waitForRendering(win.contentItem)
            verify(!find("live_bids").visible)
            verify(!find("watermark_pricey").visible)
            compare(find("runStatus").text, "Not running")
            verify(!find("runTotals").visible)
            // Nor on this file opened again.
            win.openFile(path)
            waitForRendering(win.contentItem)
            verify(!find("live_bids").visible)
            compare(find("runStatus").text, "Not running")
        }

        // A job that runs on: busy and backpressured in their own colours, queue fill on the
        // edges, event-time progress of generated (historical) data, the edge inspector, the
        // logs of this job following their end, the note when the job on screen differs
        // from the running one, and quitting asks.
        function test_7_aRunningJob() {
            open(TestEnv.freshCopy("backpressure-demo.weir.json", "running.weir.json"))
            win.runController.dataDir = TestEnv.dir + "/cluster"
            mouseClick(find("runButton"))
            tryVerify(() => win.runController.jobStatus === "RUNNING", 60000, win.runController.lastError)
            // The slow sink is busy, the map before it backpressured: two colours.
            tryVerify(() => find("liveBusy_slow_sink").color === Theme.levelHigh, 40000, find("live_slow_sink").text)
            tryVerify(() => find("liveBp_euros").color === Theme.bpHigh, 40000, find("live_euros").text)
            verify(find("liveBar_slow_sink").color !== find("liveBar_euros").color)
            compare(find("liveBar_euros").color, Theme.bpHigh)
            // The edge into the slow sink: its rate and how full the queue it feeds is.
            const edge = find("edgeHandle_euros_slow_sink")
            tryVerify(() => /\/s · \d+%$/.test(edge.children[0].text), 10000, edge.children[0].text)
            // Generated data of 2026-01-01: where event time is and how fast it goes, no lag.
            tryVerify(() => find("watermark_per_auction").text.indexOf("event time +") > 0, 20000, find("watermark_per_auction").text)
            verify(find("watermark_per_auction").text.indexOf("lag") < 0)

            // The edge inspector works while the job runs.
            mouseClick(edge)
            compare(doc.selectedEdge, doc.findEdge("euros", "slow_sink"))
            verify(find("partitionCombo").visible)
            doc.clearSelection()

            // The slow sink's debug view: the records it receives, live from the tap.
            doc.selectNode("slow_sink")
            mouseClick(find("dataTab"))
            tryVerify(() => find("dataTitle").visible, 20000)
            verify(find("dataTitle").text.indexOf("slow_sink receives: euros.out → slow_sink.in") === 0, find("dataTitle").text)
            tryVerify(() => find("dataPanel").table.rows !== undefined && find("dataPanel").table.rows.length > 0, 20000)
            doc.clearSelection()
            mouseClick(find("bottomTabs").itemAt(1))

            // Logs: this job's lines, the end in view.
            mouseClick(find("logsButton"))
            const view = find("logView")
            tryVerify(() => find("logText").text !== "", 10000)
            verify(find("logJobOnly").checked)
            for (const line of find("logText").text.split("\n")) verify(line.indexOf(win.runController.jobId) >= 0, line)
            tryVerify(() => view.contentY + view.height >= view.contentHeight - 4, 3000)
            mouseClick(find("logsButton"))

            // An edit: the job on screen is not the one running, and the canvas says so.
            verify(!find("differsBanner").visible)
            doc.setParam("euros", "fields[1].expr", "price * 0.9")
            tryVerify(() => find("differsBanner").visible, 2000)
            doc.setNodePosition("bids", 10, 10)  // moving a node changes nothing that runs
            keySequence(StandardKey.Undo)
            keySequence(StandardKey.Undo)
            tryVerify(() => !find("differsBanner").visible, 2000)

            // Quitting asks while the job runs; "Don't Quit" keeps both.
            win.close()
            tryVerify(() => win.quitRunningDialog.visible, 3000)
            const quitText = findChild(win.contentItem.parent, "quitRunningText")
            verify(quitText.text.indexOf("quitting stops it") > 0, quitText.text)
            const dontQuit = findButton(win.contentItem.parent, "Don't Quit")
            verify(dontQuit !== null)
            mouseClick(dontQuit)
            tryVerify(() => !win.quitRunningDialog.visible, 3000)
            verify(win.visible)
            compare(win.runController.jobStatus, "RUNNING")

            mouseClick(find("cancelButton"))
            tryVerify(() => win.runController.jobStatus === "CANCELED", 30000)
            tryVerify(() => find("live_bids").text.indexOf("out ") === 0, 5000, find("live_bids").text)
        }

        // A job that fails: the failed node turns red with its cause, subtask and
        // TaskManager; a click on it shows the whole exception in the Run panel.
        function test_8_aFailureOnTheCanvas() {
            const path = TestEnv.freshRunnableSample("fails.weir.json")
            open(path)
            doc.setParam("bids", "on_bad_record", "fail")  // the CSV has malformed rows
            verify(doc.valid, doc.problemTexts().join("\n"))
            win.runController.dataDir = TestEnv.dir + "/cluster"
            mouseClick(find("runButton"))
            tryVerify(() => win.runController.jobStatus === "FAILED", 60000, win.runController.jobStatus + win.runController.lastError)
            tryVerify(() => find("failure_bids").visible, 10000)
            const box = find("failure_bids")
            verify(box.text.indexOf("✖ ") === 0, box.text)
            verify(box.text.indexOf("bad record") > 0, box.text)
            verify(/subtask #\d on \S+/.test(box.text), box.text)
            compare(find("node_bids").children[0].border.color, Theme.error)
            verify(!find("failure_pricey").visible)
            find("bottomTabs").currentIndex = 0
            mouseClick(box)
            compare(find("bottomTabs").currentIndex, 1)
            const text = find("exceptionText_0")
            verify(text.visible)
            verify(text.text.indexOf("bad record") >= 0, text.text)
            verify(find("exception_0").text.indexOf("root cause") > 0, find("exception_0").text)
        }

        // Checkpoints: a checkpointed job's timeline under the graph (the summary, one bar
        // per checkpoint, the details of one clicked: a row per subtask), each card's part of
        // the latest checkpoint while it runs; after a cancel no card keeps one and no
        // checkpoint stays in progress; another document shows none of it.
        function test_9_checkpointTimeline() {
            open(TestEnv.freshCopy("backpressure-demo.weir.json", "checkpointed.weir.json"))
            doc.setParam("bids", "rate", 5000)  // below the slow sink's pace: no backpressure
            verify(doc.setJobParam("checkpoint", {}))
            verify(doc.setJobParam("checkpoint.interval_ms", 500))
            verify(doc.valid, doc.problemTexts().join("\n"))
            win.runController.dataDir = TestEnv.dir + "/cluster"
            win.runController.pollIntervalMs = 200
            mouseClick(find("checkpointsTab"))
            const summary = find("checkpointSummary")
            verify(summary.text.indexOf("No run of this job") === 0, summary.text)
            mouseClick(find("runButton"))
            tryVerify(() => win.runController.jobStatus === "RUNNING", 60000, win.runController.lastError)
            mouseClick(find("checkpointsTab"))
            tryVerify(() => win.runController.checkpoints.completed >= 2, 30000, summary.text)
            verify(summary.text.indexOf(win.runController.checkpoints.completed + " completed · ") === 0, summary.text)
            verify(summary.text.indexOf("(min / avg / max)") > 0, summary.text)
            const bar = find("checkpointBar_1")
            verify(bar.visible && bar.width > 0)
            verify(find("checkpointStrip").width > 300, find("checkpointStrip").width)  // the detail leaves it room
            verify(bar.children[0].height >= 3)
            compare(bar.children[0].color, Theme.ok)
            // The cards: size, duration, alignment and the slowest subtask of the latest one.
            tryVerify(() => find("checkpoint_per_auction").visible, 10000)
            verify(/^chk \d+ · [\d.]+ (B|KB|MB) · \d+ ms · align \d+ ms · slowest #[01]$/.test(find("checkpoint_per_auction").text),
                   find("checkpoint_per_auction").text)
            // counts is chained to per_auction: their vertex's figures, the same on both cards.
            compare(find("checkpoint_counts").text, find("checkpoint_per_auction").text)
            verify(find("checkpoint_euros").text.indexOf("chk ") === 0, find("checkpoint_euros").text)
            // Until a bar is clicked, the latest completed checkpoint's details show.
            verify(find("checkpointDetail").visible)
            verify(find("checkpointDetailTitle").text.indexOf("latest: #") === 0, find("checkpointDetailTitle").text)
            // A click shows that checkpoint's subtasks, one row each: bids (2), euros (2; bids
            // feeds two nodes, so neither is chained to it), per_auction+counts (2), slow_sink (1).
            mouseClick(find("checkpointBar_1"))  // found again: the bars are remade on every update
            tryVerify(() => find("checkpointDetailTitle").text.indexOf("#1 · ") === 0, 2000, find("checkpointDetailTitle").text)
            compare(find("checkpointSubtasks").count, 7)

            mouseClick(find("cancelButton"))
            tryVerify(() => win.runController.jobStatus === "CANCELED", 30000)
            tryVerify(() => !find("checkpoint_per_auction").visible, 10000)
            tryVerify(() => win.runController.checkpoints.inProgress === 0, 10000, summary.text)
            verify(summary.text.indexOf(" completed · ") > 0, summary.text)  // the run's timeline stays
            verify(find("checkpointDetail").visible)

            // Another document: nothing of that run.
            win.openFile(TestEnv.freshSample("other2.weir.json"))
            waitForRendering(win.contentItem)
            verify(summary.text.indexOf("No run of this job") === 0, summary.text)
            verify(findChild(win.contentItem, "checkpointBar_1") === null)
            verify(!find("checkpointDetail").visible)
        }

        // Data: select an edge, open the Data tab, press Preview: the edge's first records.
        function test_6_previewData() {
            open(TestEnv.freshRunnableSample("preview.weir.json"))
            mouseClick(find("edgeHandle_pricey_euros"))
            compare(doc.selectedEdge, doc.findEdge("pricey", "euros"))
            mouseClick(find("dataTab"))
            const button = find("previewButton")
            tryVerify(() => button.visible, 2000)
            mouseClick(button)
            tryVerify(() => find("dataTitle").visible, 20000)
            verify(find("dataTitle").text.indexOf("pricey.out → euros.in") === 0, find("dataTitle").text)
            const panel = find("dataPanel")
            verify(panel.table.rows.length > 0)
            compare(panel.table.columns[2], "price:int64")
            for (const row of panel.table.rows) verify(Number(row[2]) > 1000, row.join(","))
            verify(!TestEnv.exists(TestEnv.dir + "/out/pricey-bids.csv.inprogress"))
            // An edit makes the preview stale: it is cleared.
            doc.setNodePosition("bids", 10, 10)
            tryVerify(() => panel.table.rows === undefined, 2000)
        }
}
}
