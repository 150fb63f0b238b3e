import QtQuick
import Weir.Workbench
import QtQuick.Controls

// One node on the canvas: a card with its id, type and a line about its params, its input
// ports on the left and output ports on the right. Dragging the card moves the selection;
// dragging from an output port draws a connection.
Item {
    id: node
    required property JobDocument doc
    required property var canvas  // the GraphCanvas (not typed: qmlcachegen 6.4 crashes on the type cycle, and an Item-typed one stays null)
    required property int index
    required property string nodeId
    required property string type
    required property string title
    required property string category
    required property real posX
    required property real posY
    required property real nodeHeight
    required property var inputs
    required property var outputs
    required property bool selected
    required property int problemCount
    required property string problem
    required property string schema
    required property string summary
    required property int parallelism

    // Live figures of a running job (RunController.live), empty in design mode.
    readonly property var stats: canvas && canvas.live && canvas.live.revision >= 0 && canvas.live.active
                                 ? canvas.live.overlay(nodeId) : ({})
    readonly property bool hasStats: stats.pill !== undefined
    // Its part of the running job's latest completed checkpoint (RunController.checkpoints).
    readonly property var checkpoint: canvas && canvas.checkpoints && canvas.checkpoints.revision >= 0
                                      ? canvas.checkpoints.node(nodeId) : ({})
    readonly property bool hasCheckpoint: checkpoint.text !== undefined
    // The node's exception when the job failed here (the root cause when it is this node's).
    readonly property var failure: {
        const list = canvas && canvas.exceptions ? canvas.exceptions : []
        for (let i = 0; i < list.length; ++i) if (list[i].node === nodeId) return list[i]
        return null
    }
    readonly property bool failed: failure !== null

    objectName: "node_" + nodeId
    x: posX + (selected && canvas ? canvas.dragDelta.x : 0)
    y: posY + (selected && canvas ? canvas.dragDelta.y : 0)
    width: doc.nodeWidth
    height: nodeHeight
    z: selected ? 2 : 1

    Rectangle {
        id: card
        anchors.fill: parent
        radius: 6
        color: node.failed ? Theme.errorSoft : Theme.node
        border.color: node.selected ? Theme.accent : node.problemCount > 0 || node.failed ? Theme.error : Theme.nodeBorder
        border.width: node.selected || node.failed ? 2 : 1
    }
    Rectangle {  // live: what holds the node (busy, or backpressured) along the card's bottom edge
        objectName: "liveBar_" + node.nodeId
        visible: node.hasStats && !node.stats.ended
        x: 1; y: parent.height - 5
        width: parent.width - 2; height: 4; radius: 2
        color: node.hasStats ? Theme.pressureColor(node.stats) : "transparent"
    }
    Rectangle {  // live: throughput and time above the card (totals once the job ended)
        id: livePill
        objectName: "live_" + node.nodeId
        visible: node.hasStats
        y: -height - 4
        width: liveRow.implicitWidth + 12; height: 18; radius: 9
        color: Theme.panel
        border.color: node.hasStats && !node.stats.ended ? Theme.pressureColor(node.stats) : Theme.panelBorder
        readonly property string text: node.hasStats ? node.stats.pill : ""
        Row {
            id: liveRow
            anchors.centerIn: parent
            spacing: 6
            Text {
                objectName: "liveRate_" + node.nodeId
                font.pixelSize: 10
                color: Theme.text
                text: !node.hasStats ? "" : node.stats.ended ? node.stats.pill : node.stats.rate
            }
            Text {
                objectName: "liveBusy_" + node.nodeId
                visible: node.hasStats && !node.stats.ended
                font.pixelSize: 10
                font.bold: visible && node.stats.busyLevel !== "ok"
                color: visible && node.stats.busyLevel !== "ok" ? Theme.levelColor(node.stats.busyLevel) : Theme.textMuted
                text: visible ? node.stats.busy : ""
            }
            Text {
                objectName: "liveBp_" + node.nodeId
                visible: node.hasStats && !node.stats.ended
                font.pixelSize: 10
                font.bold: visible && node.stats.bpLevel !== "ok"
                color: visible && node.stats.bpLevel !== "ok" ? Theme.bpColor(node.stats.bpLevel) : Theme.textMuted
                text: visible ? node.stats.bp : ""
            }
        }
    }
    Text {  // live: the node's watermark (whole) and who holds it back, under the card
        id: watermarkText
        objectName: "watermark_" + node.nodeId
        visible: node.hasStats && node.stats.watermarkText !== ""
        y: parent.height + 3
        font.pixelSize: 10
        color: Theme.textMuted
        text: visible ? node.stats.watermarkText : ""
    }
    Text {  // live: the latest checkpoint's size, duration, alignment and slowest subtask
        id: checkpointText
        objectName: "checkpoint_" + node.nodeId
        visible: node.hasCheckpoint
        y: parent.height + (watermarkText.visible ? watermarkText.height + 6 : 3)
        font.pixelSize: 10
        color: Theme.textMuted
        text: visible ? node.checkpoint.text : ""
    }
    Rectangle {  // the failure: its cause, subtask and TaskManager; a click shows all of it
        id: failureBox
        objectName: "failure_" + node.nodeId
        visible: node.failed
        y: parent.height + (watermarkText.visible ? watermarkText.height + 6 : 4)
           + (checkpointText.visible ? checkpointText.height + 3 : 0)
        width: Math.max(parent.width, 240)
        height: failureText.implicitHeight + 10
        radius: 4
        color: Theme.errorSoft
        border.color: Theme.error
        z: 3
        readonly property string text: failureText.text
        Text {
            id: failureText
            x: 6; y: 5
            width: parent.width - 12
            font.pixelSize: 10
            wrapMode: Text.Wrap
            maximumLineCount: 4
            elide: Text.ElideRight
            color: Theme.error
            text: !node.failed ? "" : (node.failure.rootCause ? "✖ " : "") + Format.cause(node.failure.message)
                  + "\nsubtask #" + (node.failure.subtask !== null && node.failure.subtask !== undefined ? node.failure.subtask : "?")
                  + (node.failure.taskmanager ? " on " + node.failure.taskmanager : "")
        }
        TapHandler { onTapped: node.canvas.failureActivated(node.nodeId) }
        HoverHandler { cursorShape: Qt.PointingHandCursor }
    }
    Rectangle {  // category stripe
        x: 1; y: 1
        width: parent.width - 2
        height: 4
        radius: 6
        color: Theme.categoryColor(node.category)
    }

    MouseArea {
        id: body
        anchors.fill: parent
        acceptedButtons: Qt.LeftButton
        hoverEnabled: true
        cursorShape: pressed ? Qt.ClosedHandCursor : Qt.OpenHandCursor
        property point start
        property bool moved: false
        onPressed: (mouse) => {
            node.canvas.forceActiveFocus()
            if (mouse.modifiers & (Qt.ControlModifier | Qt.ShiftModifier))
                node.doc.selectNode(node.nodeId, JobDocument.Toggle)
            else if (!node.selected)
                node.doc.selectNode(node.nodeId, JobDocument.Replace)
            start = mapToItem(node.canvas, mouse.x, mouse.y)
            moved = false
        }
        onPositionChanged: (mouse) => {
            if (!pressed || !node.selected) return
            const p = mapToItem(node.canvas, mouse.x, mouse.y)
            const dx = (p.x - start.x) / node.canvas.zoom, dy = (p.y - start.y) / node.canvas.zoom
            if (!moved && Math.abs(dx) + Math.abs(dy) < 3) return
            moved = true
            node.canvas.dragDelta = Qt.point(Math.round(dx), Math.round(dy))
        }
        onReleased: (mouse) => {
            if (moved) {
                const d = node.canvas.dragDelta
                node.doc.moveNodes(node.doc.selectedNodes, d.x, d.y)
                node.canvas.dragDelta = Qt.point(0, 0)
            } else if (!(mouse.modifiers & (Qt.ControlModifier | Qt.ShiftModifier))) {
                node.doc.selectNode(node.nodeId, JobDocument.Replace)
            }
        }
        onCanceled: node.canvas.dragDelta = Qt.point(0, 0)
        ToolTip {  // at most 380 wide: long schemas and conditions wrap
            objectName: "tooltip_" + node.nodeId
            visible: body.containsMouse && !body.pressed && !node.canvas.connecting
            delay: 700
            width: Math.min(implicitWidth, 380)
            text: (node.problemCount > 0 ? "⚠ " + node.problem + "\n" : "") + node.title + " (" + node.type + ")" +
                  (node.summary !== "" ? "\n" + node.summary : "") +
                  (node.schema !== "" ? "\nout: " + node.schema : "") +
                  (node.parallelism > 0 ? "\nparallelism " + node.parallelism : "")
        }
    }

    Column {
        x: 10; y: 8
        width: parent.width - 20
        spacing: 1
        Row {
            width: parent.width
            spacing: 6
            Text {
                width: parent.width - (badge.visible ? badge.width + 6 : 0)
                text: node.nodeId
                font.pixelSize: 13
                font.bold: true
                color: Theme.text
                elide: Text.ElideRight
            }
            Rectangle {
                id: badge
                visible: node.problemCount > 0
                width: Math.max(16, badgeText.implicitWidth + 8)
                height: 16
                radius: 8
                color: Theme.error
                Text { id: badgeText; anchors.centerIn: parent; text: node.problemCount; color: "white"; font.pixelSize: 10; font.bold: true }
            }
        }
        Text {
            width: parent.width
            text: node.summary !== "" ? node.summary : node.title
            font.pixelSize: 11
            color: node.summary !== "" ? Theme.textMuted : Theme.textFaint
            elide: Text.ElideRight
        }
    }

    Repeater {
        model: node.inputs
        delegate: Item {
            required property string modelData
            required property int index
            x: 0
            y: node.doc.headerHeight + index * node.doc.portRowHeight
            width: node.width / 2
            height: node.doc.portRowHeight
            Rectangle {
                objectName: "in_" + node.nodeId + "_" + parent.modelData
                x: -5; anchors.verticalCenter: parent.verticalCenter
                width: 10; height: 10; radius: 5
                color: node.canvas && node.canvas.connTargetNode === node.nodeId && node.canvas.connTargetPort === parent.modelData
                       ? (node.canvas.connRefusal === "" ? Theme.ok : Theme.error) : Theme.port
                border.color: Theme.portBorder
                border.width: 1.5
            }
            Text {
                x: 10; anchors.verticalCenter: parent.verticalCenter
                text: parent.modelData
                font.pixelSize: 11
                color: Theme.textMuted
            }
        }
    }

    Repeater {
        model: node.outputs
        delegate: Item {
            id: outPort
            required property string modelData
            required property int index
            x: node.width / 2
            y: node.doc.headerHeight + index * node.doc.portRowHeight
            width: node.width / 2
            height: node.doc.portRowHeight
            Text {
                anchors.right: parent.right; anchors.rightMargin: 10
                anchors.verticalCenter: parent.verticalCenter
                text: outPort.modelData
                font.pixelSize: 11
                color: Theme.textMuted
            }
            Rectangle {
                id: dot
                objectName: "out_" + node.nodeId + "_" + outPort.modelData
                x: parent.width - 5; anchors.verticalCenter: parent.verticalCenter
                width: 10; height: 10; radius: 5
                color: portArea.containsMouse || portArea.pressed ? Theme.accent : Theme.port
                border.color: portArea.containsMouse ? Theme.accent : Theme.portBorder
                border.width: 1.5
                MouseArea {
                    id: portArea
                    anchors.centerIn: parent
                    width: 20; height: 20
                    hoverEnabled: true
                    cursorShape: Qt.CrossCursor
                    preventStealing: true
                    onPressed: (mouse) => {
                        node.canvas.forceActiveFocus()
                        const p = mapToItem(node.canvas, mouse.x, mouse.y)
                        node.canvas.beginConnect(node.nodeId, outPort.modelData, p.x, p.y)
                    }
                    onPositionChanged: (mouse) => {
                        if (!pressed) return
                        const p = mapToItem(node.canvas, mouse.x, mouse.y)
                        node.canvas.updateConnect(p.x, p.y)
                    }
                    onReleased: (mouse) => {
                        const p = mapToItem(node.canvas, mouse.x, mouse.y)
                        node.canvas.endConnect(p.x, p.y)
                    }
                    onCanceled: node.canvas.cancelConnect()
                }
            }
        }
    }
}
