import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Shapes

// One edge: a cubic curve from an output port to an input port, and a small handle at its
// middle that shows what flows on hover and selects the edge on click.
Item {
    id: edge
    required property JobDocument doc
    required property var canvas  // the GraphCanvas (not typed: qmlcachegen 6.4 crashes on the type cycle, and an Item-typed one stays null)
    required property int edgeId
    required property string fromNode
    required property string fromPort
    required property string toNode
    required property string toPort
    required property real x1
    required property real y1
    required property real x2
    required property real y2
    required property bool fromSelected
    required property bool toSelected
    required property bool selected
    required property string schema
    required property string partition
    required property var keyFields
    required property bool valid
    required property string problem

    readonly property point delta: canvas ? canvas.dragDelta : Qt.point(0, 0)
    // While the selection is dragged, an edge with both ends selected moves as a whole (cheap:
    // the item moves); only an edge with one end selected bends (its path is rebuilt).
    readonly property bool whole: fromSelected && toSelected
    x: whole ? delta.x : 0
    y: whole ? delta.y : 0
    readonly property real sx: x1 + (fromSelected && !whole ? delta.x : 0)
    readonly property real sy: y1 + (fromSelected && !whole ? delta.y : 0)
    readonly property real ex: x2 + (toSelected && !whole ? delta.x : 0)
    readonly property real ey: y2 + (toSelected && !whole ? delta.y : 0)
    readonly property real bend: Math.max(40, Math.abs(ex - sx) * 0.5)
    // Records per second while a job runs ("": not known).
    readonly property string rate: canvas && canvas.live && canvas.live.revision >= 0 && canvas.live.active
                                   ? canvas.live.edgeLabel(fromNode, fromPort, toNode, toPort) : ""
    readonly property color stroke: selected ? Theme.accent
                                  : problem !== "" || !valid ? Theme.error
                                  : handleHover.hovered ? Theme.text : Theme.edge

    Shape {
        id: curve
        ShapePath {
            strokeColor: edge.stroke
            strokeWidth: edge.selected ? 2.5 : 1.6
            fillColor: "transparent"
            capStyle: ShapePath.RoundCap
            startX: edge.sx
            startY: edge.sy
            PathCubic {
                x: edge.ex
                y: edge.ey
                control1X: edge.sx + edge.bend
                control1Y: edge.sy
                control2X: edge.ex - edge.bend
                control2Y: edge.ey
            }
        }
    }

    // The middle of the curve: a pill naming the partitioning when it is not plain forward.
    Rectangle {
        id: handle
        objectName: "edgeHandle_" + edge.fromNode + "_" + edge.toNode
        // A label when there is something to say and room to say it.
        readonly property bool labelled: (edge.partition !== "forward" || edge.problem !== "" || edge.rate !== "") &&
                                         Math.hypot(edge.ex - edge.sx, edge.ey - edge.sy) > label.implicitWidth + 20
        width: labelled ? label.implicitWidth + 12 : 12
        height: labelled ? 16 : 12
        radius: height / 2
        // A plain edge's handle shows only under the pointer or when selected.
        opacity: labelled || edge.selected || handleHover.hovered ? 1 : 0
        x: (edge.sx + edge.ex) / 2 - width / 2
        y: (edge.sy + edge.ey) / 2 - height / 2
        color: edge.selected ? Theme.accent : edge.problem !== "" ? Theme.errorSoft : Theme.node
        border.color: edge.stroke
        border.width: 1
        Text {
            id: label
            anchors.centerIn: parent
            visible: handle.labelled
            text: edge.problem !== "" ? "!"
                  : edge.rate !== "" ? edge.rate
                  : edge.partition
            font.pixelSize: 10
            color: edge.selected ? "white" : edge.problem !== "" ? Theme.error : Theme.textMuted
        }
        HoverHandler { id: handleHover; cursorShape: Qt.PointingHandCursor }
        TapHandler { onTapped: edge.doc.selectEdge(edge.edgeId) }
        ToolTip.visible: handleHover.hovered
        ToolTip.delay: 250
        ToolTip.text: {
            let t = edge.fromNode + "." + edge.fromPort + " → " + edge.toNode + "." + edge.toPort
            t += "\n" + (edge.schema !== "" ? edge.schema.split(", ").join("\n") : "schema not known yet")
            t += "\npartition: " + edge.partition + (edge.keyFields.length ? " (" + edge.keyFields.join(", ") + ")" : "")
            if (edge.rate !== "") t += "\n" + edge.rate.replace("/s", " records/s")
            if (edge.problem !== "") t += "\n⚠ " + edge.problem
            return t
        }
    }
}
