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
            // With nothing selected, the job's settings: turn checkpoints on, give an interval.
            doc.clearSelection()
            waitForRendering(win.contentItem)
            const cp = find("switch_checkpoint")
            mouseClick(cp)
            compare(doc.problemTexts(), ["job: checkpoint.interval_ms: missing required field"])
            verify(doc.setJobParam("checkpoint.interval_ms", 2000), doc.toText())
            compare(doc.problemTexts(), [])
            keySequence(StandardKey.Undo)
            keySequence(StandardKey.Undo)
            verify(doc.toText().indexOf("checkpoint") < 0)
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
            // The last figures stay on the canvas: the source's pill and the edge's rate.
            tryVerify(() => find("live_bids").visible, 5000)
            verify(find("live_bids").children[0].text.indexOf("/s") > 0)
            const handle = find("edgeHandle_bids_pricey")
            verify(handle.children[0].text.indexOf("/s") > 0, handle.children[0].text)
            doc.selectNode("pricey")
            tryVerify(() => find("runPanel").stats.subtasks !== undefined, 2000)
            compare(find("runPanel").stats.subtasks.length, 2)  // the sample runs at parallelism 2
            const produced = TestEnv.sortedLines(TestEnv.dir + "/out/pricey-bids.csv")
            const expected = TestEnv.runInProcess(path, "out", TestEnv.dir + "/expected.csv")
            verify(produced.length > 1)
            compare(produced, expected)
            compare(find("cancelButton").enabled, false)
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
