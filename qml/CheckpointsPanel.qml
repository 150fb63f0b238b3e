import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The checkpoint timeline of the run on screen (RunController.checkpoints): Flink's summary
// line, one bar per checkpoint (height: its duration; green completed, blue savepoint, red
// failed with a ✖, amber in progress), the restarts as red markers between the bars with
// their cause as tooltip, and the details of the bar clicked (until then of the latest
// completed checkpoint): one row per subtask.
Rectangle {
    id: panel
    required property RunController run
    /// The run shown belongs to the open document (Main's runHere): otherwise nothing shows.
    property bool here: false
    readonly property CheckpointTimeline timeline: here ? run.checkpoints : null
    readonly property int revision: timeline ? timeline.revision : -1
    readonly property var bars: timeline && revision >= 0 ? timeline.bars() : []
    readonly property var restarts: timeline && revision >= 0 ? timeline.restarts() : []
    /// The checkpoint clicked (-1: none, the latest completed one is shown and followed);
    /// forgotten when another job is shown.
    property real selectedId: -1
    readonly property real latestCompleted: {
        for (let i = bars.length - 1; i >= 0; --i) if (bars[i].status === "COMPLETED") return bars[i].id
        return -1
    }
    readonly property real shownId: selectedId >= 0 ? selectedId : latestCompleted
    readonly property var detail: timeline && revision >= 0 && shownId >= 0 ? timeline.checkpoint(shownId) : ({})
    readonly property bool hasDetail: detail.id !== undefined
    readonly property int barWidth: 14
    readonly property int barGap: 5
    readonly property int markerWidth: 9
    color: Theme.panel

    Connections {
        target: panel.run
        function onChanged() { if (panel.shownJob !== panel.run.jobId) { panel.shownJob = panel.run.jobId; panel.selectedId = -1 } }
    }
    property string shownJob: ""
    onHereChanged: selectedId = -1

    /// Where bar `i` starts: bars and the restart markers placed before them.
    function barX(i) {
        let markers = 0
        for (let k = 0; k < restarts.length; ++k) if (restarts[k].before <= i) ++markers
        return i * (barWidth + barGap) + markers * (markerWidth + barGap)
    }
    function barColor(b) {
        if (b.status === "FAILED") return Theme.error
        if (b.status === "IN_PROGRESS") return Theme.warning
        return b.kind === "savepoint" ? Theme.accent : Theme.ok
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 6

        Label {
            objectName: "checkpointSummary"
            Layout.fillWidth: true
            font.pixelSize: 11
            color: Theme.text
            elide: Text.ElideRight
            text: !panel.timeline ? "No run of this job on screen: run it to see its checkpoints."
                  : panel.timeline.summary !== "" ? panel.timeline.summary : "Waiting for the job's checkpoints…"
        }

        Item {  // the strip, and the checkpoint's details at its right (anchors: a RowLayout gave
                // the strip no width beside the details' long texts)
            Layout.fillWidth: true
            Layout.fillHeight: true

            Flickable {
                id: strip
                objectName: "checkpointStrip"
                anchors.left: parent.left
                anchors.top: parent.top
                anchors.bottom: parent.bottom
                anchors.right: detailColumn.visible ? detailColumn.left : parent.right
                anchors.rightMargin: detailColumn.visible ? 10 : 0
                clip: true
                contentWidth: Math.max(width, panel.barX(panel.bars.length) + panel.markerWidth)
                contentHeight: height
                flickableDirection: Flickable.HorizontalFlick
                ScrollBar.horizontal: ScrollBar { }
                // Follow the newest checkpoint: the strip's right end stays in view as bars come
                // and as the panel is resized (it is 0 wide while its tab is not shown).
                function keepEnd() { contentX = Math.max(0, contentWidth - width) }
                onContentWidthChanged: keepEnd()
                onWidthChanged: keepEnd()
                readonly property real chartHeight: height - 22
                readonly property real scale: panel.timeline && panel.timeline.maxDurationMs > 0
                                              ? chartHeight / panel.timeline.maxDurationMs : 0

                Rectangle {  // the base line
                    x: 0; y: strip.chartHeight
                    width: strip.contentWidth; height: 1
                    color: Theme.panelBorder
                }
                Repeater {
                    model: panel.bars
                    delegate: Item {
                        id: barItem
                        required property var modelData
                        required property int index
                        objectName: "checkpointBar_" + modelData.id
                        x: panel.barX(index)
                        y: 0
                        width: panel.barWidth
                        height: strip.height
                        readonly property real barHeight: modelData.durationMs >= 0
                                                          ? Math.max(3, modelData.durationMs * strip.scale) : 3
                        Rectangle {
                            x: 0
                            y: strip.chartHeight - barItem.barHeight
                            width: parent.width
                            height: barItem.barHeight
                            radius: 2
                            color: modelData.status === "IN_PROGRESS" ? "transparent" : panel.barColor(modelData)
                            border.color: panel.shownId === modelData.id ? Theme.text : panel.barColor(modelData)
                            border.width: panel.shownId === modelData.id ? 2 : 1
                        }
                        Text {  // a failed checkpoint is marked, whatever its height
                            visible: modelData.status === "FAILED"
                            anchors.horizontalCenter: parent.horizontalCenter
                            y: strip.chartHeight - barItem.barHeight - height
                            text: "✖"; font.pixelSize: 10; color: Theme.error
                        }
                        Text {
                            anchors.horizontalCenter: parent.horizontalCenter
                            y: strip.chartHeight + 3
                            text: modelData.id
                            font.pixelSize: 9
                            color: Theme.textMuted
                        }
                        MouseArea {
                            id: barArea
                            anchors.fill: parent
                            hoverEnabled: true
                            cursorShape: Qt.PointingHandCursor
                            // On press: the bars are made again with every update (a JS array model),
                            // so a press and its release may meet two different bars.
                            onPressed: panel.selectedId = modelData.id
                        }
                        ToolTip.visible: barArea.containsMouse
                        ToolTip.delay: 300
                        ToolTip.text: modelData.label
                    }
                }
                Repeater {  // the restarts, between the checkpoints before and after them
                    model: panel.restarts
                    delegate: Item {
                        required property var modelData
                        required property int index
                        objectName: "restartMarker_" + modelData.attempt
                        // Left of the first bar after it (or after the last bar).
                        x: panel.barX(modelData.before) - (panel.markerWidth + panel.barGap) * (1 + panel.laterMarkers(index))
                        width: panel.markerWidth
                        height: strip.chartHeight
                        readonly property string tip: "restart to attempt " + modelData.attempt + " after "
                                                      + Format.duration(modelData.delayMs) + ": " + modelData.cause
                        Rectangle {
                            anchors.horizontalCenter: parent.horizontalCenter
                            width: 2; height: parent.height
                            color: Theme.error
                        }
                        Text {
                            anchors.horizontalCenter: parent.horizontalCenter
                            text: "↻"; font.pixelSize: 11; font.bold: true; color: Theme.error
                        }
                        MouseArea { id: markerArea; anchors.fill: parent; hoverEnabled: true }
                        ToolTip.visible: markerArea.containsMouse
                        ToolTip.delay: 200
                        ToolTip.text: tip
                    }
                }
            }

            ColumnLayout {  // the checkpoint clicked
                objectName: "checkpointDetail"
                visible: panel.hasDetail
                id: detailColumn
                anchors.right: parent.right
                anchors.top: parent.top
                anchors.bottom: parent.bottom
                width: 500
                spacing: 2
                Label {
                    objectName: "checkpointDetailTitle"
                    Layout.fillWidth: true
                    font.pixelSize: 11; font.bold: true
                    color: panel.hasDetail && panel.detail.status === "FAILED" ? Theme.error : Theme.text
                    elide: Text.ElideRight
                    text: !panel.hasDetail ? "" : (panel.selectedId < 0 ? "latest: " : "") + panel.detail.label + " · attempt " + panel.detail.attempt
                          + " · " + panel.detail.acknowledged + "/" + panel.detail.total + " acknowledged"
                }
                Label {
                    Layout.fillWidth: true
                    visible: panel.hasDetail && panel.detail.path !== ""
                    font.pixelSize: 10; color: Theme.textMuted; elide: Text.ElideMiddle
                    text: panel.hasDetail ? panel.detail.path : ""
                }
                Row {  // the table's header
                    spacing: 0
                    Repeater {
                        model: ["vertex", "subtask", "size", "sync", "async", "alignment", "finished"]
                        delegate: Label {
                            required property string modelData
                            required property int index
                            width: index === 0 ? 130 : 62
                            font.pixelSize: 10; font.bold: true; color: Theme.textMuted
                            text: modelData
                        }
                    }
                }
                ListView {
                    objectName: "checkpointSubtasks"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: panel.hasDetail ? panel.detail.subtasks : []
                    delegate: Row {
                        required property var modelData
                        readonly property var cells: [modelData.vertex, "#" + modelData.subtask, Format.bytes(modelData.bytes),
                                                      Format.duration(modelData.syncMs), Format.duration(modelData.asyncMs),
                                                      Format.duration(modelData.alignmentMs), modelData.finished ? "yes" : "no"]
                        Repeater {
                            model: parent.cells
                            delegate: Label {
                                required property string modelData
                                required property int index
                                width: index === 0 ? 130 : 62
                                font.pixelSize: 10; color: Theme.text; elide: Text.ElideRight
                                text: modelData
                            }
                        }
                    }
                    Label {
                        visible: panel.hasDetail && panel.detail.subtasks.length === 0
                        font.pixelSize: 10; color: Theme.textMuted
                        text: panel.hasDetail && panel.detail.status === "FAILED" ? "failed: " + panel.detail.failure
                              : "no subtask details (only completed checkpoints have them)"
                    }
                }
            }
        }
    }
    /// How many restart markers sit before the same bar after marker `index` (drawn right of it).
    function laterMarkers(index) {
        let n = 0
        for (let k = index + 1; k < restarts.length; ++k) if (restarts[k].before === restarts[index].before) ++n
        return n
    }
}
