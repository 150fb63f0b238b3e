import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The run of the open job: its status and, when it failed, its exceptions (the root cause
// first, each one's whole text a click away); once it has ended, its totals per node and
// where its output went; for the selected node the live figures per subtask; and the
// daemons' logs (following their end, this job's lines only by default).
Rectangle {
    id: panel
    required property JobDocument doc
    required property RunController run
    /// The run shown belongs to this document (Main.runHere): else nothing of it shows.
    property bool here: true
    property bool showLogs: false
    color: Theme.panel

    readonly property var live: run.live
    readonly property string nodeId: doc.currentNode
    readonly property var stats: here && live.revision >= 0 && nodeId !== "" ? live.node(nodeId) : ({})
    readonly property bool ended: here && (run.jobStatus === "FINISHED" || run.jobStatus === "FAILED" || run.jobStatus === "CANCELED")
    readonly property var exceptions: here ? run.exceptions : []
    property int openException: 0  // the exception whose whole text shows
    function showException(nodeId) {
        showLogs = false
        for (let i = 0; i < exceptions.length; ++i) if (exceptions[i].node === nodeId) { openException = i; return }
    }
    Connections {
        target: panel.run
        function onExceptionsChanged() { panel.openException = 0 }
    }

    // Where a sink's output went: its path, resolved against the job file's folder.
    function outputOf(nodeId, type) {
        if (!type.startsWith("sink.")) return ""
        if (type === "sink.stdout") return "standard output of the TaskManagers (Logs)"
        if (type === "sink.discard") return "discarded"
        const p = doc.paramValue(nodeId, "path")
        if (p === undefined || p === null || p === "") return ""
        if (String(p).startsWith("/") || doc.path === "") return String(p)
        return doc.path.substring(0, doc.path.lastIndexOf("/") + 1) + p
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        spacing: 6

        RowLayout {
            Layout.fillWidth: true
            spacing: 10
            Label {
                objectName: "runStatus"
                font.bold: true
                color: panel.here && panel.run.jobStatus === "FAILED" ? Theme.error
                     : panel.here && panel.run.jobStatus === "FINISHED" ? Theme.ok : Theme.text
                text: !panel.here ? (panel.run.jobActive ? "Not running (" + panel.run.jobName + " runs for another document)" : "Not running")
                    : panel.run.jobStatus !== "" ? panel.run.jobName + " " + panel.run.jobStatus
                    : panel.run.jobActive ? "Submitting…" : "Not running"
            }
            Label {
                Layout.fillWidth: true
                elide: Text.ElideRight
                color: Theme.textMuted; font.pixelSize: 11
                text: panel.run.remote ? panel.run.targetUrl
                      : panel.run.clusterState === "running" ? "local cluster " + panel.run.clusterUrl + " · "
                      + (panel.run.logNames.length - 1) + " TaskManagers"
                      : panel.run.clusterState === "starting" ? "starting the local cluster…"
                      : panel.run.clusterState === "failed" ? "the local cluster did not start" : "local cluster stopped"
            }
            Button { objectName: "logsButton"; text: panel.showLogs ? "Figures" : "Logs"; flat: true; onClicked: panel.showLogs = !panel.showLogs }
        }
        Label {
            objectName: "runError"
            visible: text !== ""
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            maximumLineCount: 3
            elide: Text.ElideRight
            color: Theme.error
            font.pixelSize: 11
            text: panel.here && panel.run.failure !== "" ? panel.run.failure : panel.run.lastError
        }

        // Figures.
        ScrollView {
            visible: !panel.showLogs
            Layout.fillWidth: true
            Layout.fillHeight: true
            contentWidth: availableWidth
            clip: true
            ColumnLayout {
                width: parent.width
                spacing: 4

                // The exception history: the root cause first; the chosen one whole.
                Label {
                    visible: panel.exceptions.length > 0
                    text: "Exceptions (" + panel.exceptions.length + ")"
                    font.bold: true; font.pixelSize: 11; color: Theme.error
                }
                Repeater {
                    objectName: "exceptionList"
                    model: panel.exceptions
                    delegate: ColumnLayout {
                        id: exc
                        required property var modelData
                        required property int index
                        readonly property bool open: panel.openException === index
                        Layout.fillWidth: true
                        spacing: 1
                        Label {
                            objectName: "exception_" + exc.index
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                            font.pixelSize: 11
                            color: exc.modelData.rootCause ? Theme.error : Theme.textMuted
                            text: (exc.open ? "▾ " : "▸ ") + (exc.modelData.rootCause ? "root cause · " : "")
                                  + (exc.modelData.node ? exc.modelData.node + " #" + exc.modelData.subtask : "")
                                  + (exc.modelData.taskmanager ? " on " + exc.modelData.taskmanager : "")
                                  + (exc.modelData.timeMs ? " · " + Format.time(exc.modelData.timeMs) : "")
                                  + (exc.open ? "" : " · " + Format.cause(exc.modelData.message))
                            TapHandler { onTapped: panel.openException = exc.open ? -1 : exc.index }
                        }
                        TextEdit {  // the whole message, selectable
                            objectName: "exceptionText_" + exc.index
                            visible: exc.open
                            Layout.fillWidth: true
                            Layout.leftMargin: 14
                            readOnly: true
                            selectByMouse: true
                            wrapMode: TextEdit.Wrap
                            font.family: Theme.monoFamily
                            font.pixelSize: 11
                            color: Theme.text
                            text: exc.modelData.message
                        }
                    }
                }

                // Once ended: what each node did in all, and where the output went.
                Label {
                    visible: panel.ended
                    text: "Totals"
                    font.bold: true; font.pixelSize: 11; color: Theme.text
                    Layout.topMargin: panel.exceptions.length > 0 ? 6 : 0
                }
                Column {
                    objectName: "runTotals"
                    visible: panel.ended && panel.live.active
                    spacing: 1
                    readonly property var widths: [130, 90, 90, 90, 70, 360]
                    Row {
                        Repeater {
                            model: ["node", "records in", "records out", "dead letters", "late", "output"]
                            Label { required property string modelData; required property int index; width: parent.parent.widths[index]; font.pixelSize: 11; font.bold: true; color: Theme.textMuted; text: modelData }
                        }
                    }
                    Repeater {
                        model: panel.ended ? panel.doc.nodes : null
                        delegate: Row {
                            id: totalRow
                            objectName: "total_" + nodeId
                            required property string nodeId
                            required property string type
                            readonly property var n: panel.live.revision >= 0 ? panel.live.node(nodeId) : ({})
                            readonly property var cells: [nodeId,
                                n.recordsIn !== undefined ? Format.count(n.recordsIn) : "—",
                                n.recordsOut !== undefined ? Format.count(n.recordsOut) : "—",
                                n.deadLetters !== undefined ? Format.count(n.deadLetters) : "—",
                                n.lateRecords !== undefined ? Format.count(n.lateRecords) : "—",
                                panel.outputOf(nodeId, type)]
                            readonly property string text: cells.join(" | ")
                            Repeater {
                                model: totalRow.cells
                                Label {
                                    required property string modelData
                                    required property int index
                                    width: totalRow.parent.widths[index]
                                    elide: index === 5 ? Text.ElideMiddle : Text.ElideRight
                                    font.pixelSize: 11
                                    font.family: index === 5 ? Theme.monoFamily : font.family
                                    color: Theme.text
                                    text: modelData
                                }
                            }
                        }
                    }
                }

                // The selected node, per subtask.
                Label {
                    color: Theme.textMuted; font.pixelSize: 11
                    Layout.topMargin: 6
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    text: !panel.here ? "" : panel.nodeId === "" ? "Select a node to see its subtasks."
                        : panel.stats.busy === undefined ? panel.nodeId + ": no figures yet"
                        : panel.nodeId + ": " + Format.rate(panel.stats.recordsInPerS) + " in, "
                          + Format.rate(panel.stats.recordsOutPerS) + " out · " + Format.count(panel.stats.recordsOut) + " records out"
                          + (panel.stats.deadLetters > 0 ? " · " + Format.count(panel.stats.deadLetters) + " dead letters" : "")
                          + (panel.stats.lateRecords > 0 ? " · " + Format.count(panel.stats.lateRecords) + " late" : "")
                }
                RowLayout {  // the selected node's figures over the last minutes
                    visible: panel.stats.busy !== undefined
                    Layout.fillWidth: true
                    spacing: 10
                    Sparkline { title: "records in/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "recordsInPerS") : []; format: (v) => Format.rate(v); Layout.fillWidth: true; implicitHeight: 48 }
                    Sparkline { title: "records out/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "recordsOutPerS") : []; format: (v) => Format.rate(v); Layout.fillWidth: true; implicitHeight: 48 }
                    Sparkline { title: "busy ms/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "busy") : []; color: Theme.levelLow; format: (v) => Math.round(v); Layout.fillWidth: true; implicitHeight: 48 }
                    Sparkline { title: "backpressured ms/s"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "backpressured") : []; color: Theme.bpHigh; format: (v) => Math.round(v); Layout.fillWidth: true; implicitHeight: 48 }
                    Sparkline { visible: !panel.stats.historical; title: "watermark lag"; values: panel.live.revision >= 0 ? panel.live.history(panel.nodeId, "watermarkLagMs") : []; format: (v) => Format.duration(v); Layout.fillWidth: true; implicitHeight: 48 }
                }
                Row {
                    visible: panel.stats.subtasks !== undefined
                    spacing: 0
                    Repeater {
                        model: ["#", "TaskManager", "in/s", "out/s", "busy", "backpressure", "idle", "input queue", "watermark"]
                        Label { required property string modelData; width: index === 1 ? 130 : index === 8 ? 170 : index === 5 ? 100 : 84; font.pixelSize: 11; font.bold: true; color: Theme.textMuted; text: modelData; required property int index }
                    }
                }
                Repeater {
                    model: panel.stats.subtasks !== undefined ? panel.stats.subtasks : []
                    delegate: Row {
                        required property var modelData
                        spacing: 0
                        component Cell: Label { width: 84; font.pixelSize: 11; color: Theme.text }
                        Cell { text: modelData.subtask; font.bold: panel.stats.holdingSubtask === modelData.subtask }
                        Cell { width: 130; text: modelData.taskmanager; elide: Text.ElideRight }
                        Cell { text: Format.rate(modelData.recordsInPerS) }
                        Cell { text: Format.rate(modelData.recordsOutPerS) }
                        Cell { text: Format.percent(modelData.busy); color: modelData.busy > 500 ? Theme.levelHigh : modelData.busy > 100 ? Theme.levelLow : Theme.text }
                        Cell { width: 100; text: Format.percent(modelData.backpressured); color: modelData.backpressured > 500 ? Theme.bpHigh : modelData.backpressured > 100 ? Theme.bpLow : Theme.text }
                        Cell { text: Format.percent(modelData.idle) }
                        Cell { text: Math.round(modelData.inputUsage * 100) + "%" }
                        Cell {
                            width: 170
                            text: modelData.inputWatermark !== null && modelData.inputWatermark !== undefined ? Format.time(modelData.inputWatermark)
                                : modelData.outputWatermark !== null && modelData.outputWatermark !== undefined ? Format.time(modelData.outputWatermark) : "—"
                        }
                    }
                }
            }
        }

        // Logs of the daemons: the end of the chosen one, following it as it grows.
        ColumnLayout {
            visible: panel.showLogs
            Layout.fillWidth: true
            Layout.fillHeight: true
            RowLayout {
                ComboBox {
                    id: logChoice
                    objectName: "logChoice"
                    model: panel.run.logNames
                    implicitWidth: 200
                }
                CheckBox {
                    id: jobOnly
                    objectName: "logJobOnly"
                    text: "This job only"
                    checked: true
                    enabled: panel.run.jobId !== ""
                }
            }
            Flickable {
                id: logView
                objectName: "logView"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                contentWidth: logText.implicitWidth
                contentHeight: logText.implicitHeight
                ScrollBar.vertical: ScrollBar {}
                ScrollBar.horizontal: ScrollBar {}
                // Follows the end unless the reader scrolled up.
                property bool following: true
                onMovementEnded: following = contentY + height >= contentHeight - 4
                function toEnd() { if (following) contentY = Math.max(0, contentHeight - height) }
                onContentHeightChanged: toEnd()
                onHeightChanged: toEnd()
                TextEdit {
                    id: logText
                    objectName: "logText"
                    readOnly: true
                    selectByMouse: true
                    color: Theme.text
                    font.family: Theme.monoFamily
                    font.pixelSize: 11
                    wrapMode: TextEdit.NoWrap
                    text: {
                        if (!panel.showLogs || logChoice.currentText === "" || panel.live.revision < 0 || logTick.tick < 0) return ""
                        const all = panel.run.logTail(logChoice.currentText, jobOnly.checked && jobOnly.enabled ? 2000 : 300)
                        if (!(jobOnly.checked && jobOnly.enabled)) return all
                        return all.split("\n").filter(l => l.indexOf(panel.run.jobId) >= 0).slice(-300).join("\n")
                    }
                }
            }
            Timer {  // the logs grow also when no figures come (a job that ended, the daemons' own lines)
                id: logTick
                property int tick: 0
                interval: 1000; repeat: true; running: panel.showLogs && panel.visible
                onTriggered: tick++
            }
        }
    }
}
