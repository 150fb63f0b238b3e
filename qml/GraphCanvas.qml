import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Shapes

// The canvas: the job's nodes and edges on a grid, panned and zoomed.
//   pan: drag the background (or middle button), wheel / trackpad scroll
//   zoom: Ctrl+wheel (around the pointer), +/- keys, fit-to-view
//   select: click a node (Ctrl/Shift+click toggles), Shift+drag the background for a band
//   connect: drag from an output port (right) to an input port (left)
// What an edit means is JobDocument's business; this file only turns gestures into calls.
FocusScope {
    id: board
    required property JobDocument doc
    property LiveMetrics live: null  // figures of the running job, drawn on nodes and edges
    /// The running job's checkpoints: each node card shows its part of the latest one.
    property CheckpointTimeline checkpoints: null
    /// The exceptions of the job shown (RunController.exceptions, root cause first): a
    /// failed node turns red with its cause.
    property var exceptions: []
    /// A failed node's cause was clicked: show the whole of it.
    signal failureActivated(string nodeId)
    property real zoom: 1
    property real panX: 40
    property real panY: 40
    /// How far the selected nodes are being dragged (board units), until the drop.
    property point dragDelta: Qt.point(0, 0)
    readonly property real minZoom: 0.15
    readonly property real maxZoom: 2.5

    // A connection being drawn from an output port.
    property string connFromNode: ""
    property string connFromPort: ""
    property point connStart: Qt.point(0, 0)
    property point connEnd: Qt.point(0, 0)
    property string connTargetNode: ""
    property string connTargetPort: ""
    property string connRefusal: ""
    readonly property bool connecting: connFromNode !== ""

    signal refused(string reason)

    // Fit once the canvas has a size (after a file is opened, the layout may not be done).
    property bool fitPending: false
    function requestFit() { fitPending = true; tryFit() }
    function tryFit() { if (fitPending && width > 0 && height > 0) { fitPending = false; fitToView() } }
    onWidthChanged: tryFit()
    onHeightChanged: tryFit()

    clip: true
    activeFocusOnTab: true

    function toContent(vx, vy) { return Qt.point((vx - panX) / zoom, (vy - panY) / zoom) }
    function toView(cx, cy) { return Qt.point(cx * zoom + panX, cy * zoom + panY) }
    function viewCenter() { return toContent(width / 2, height / 2) }

    function zoomAt(factor, vx, vy) {
        const z = Math.max(minZoom, Math.min(maxZoom, zoom * factor))
        const c = toContent(vx, vy)
        zoom = z
        panX = vx - c.x * z
        panY = vy - c.y * z
    }
    function zoomIn() { zoomAt(1.2, width / 2, height / 2) }
    function zoomOut() { zoomAt(1 / 1.2, width / 2, height / 2) }
    function actualSize() { zoomAt(1 / zoom, width / 2, height / 2) }
    function fitToView() {
        const r = doc.bounds
        if (r.width <= 0 || width <= 0 || height <= 0) { zoom = 1; panX = 40; panY = 40; return }
        const margin = 48
        zoom = Math.max(minZoom, Math.min(1.25, Math.min((width - 2 * margin) / r.width, (height - 2 * margin) / r.height)))
        panX = (width - r.width * zoom) / 2 - r.x * zoom
        panY = (height - r.height * zoom) / 2 - r.y * zoom
    }
    function centerOn(nodeId) {
        const r = doc.nodeRect(nodeId)
        if (r.width <= 0) return
        const v = toView(r.x + r.width / 2, r.y + r.height / 2)
        if (v.x < 0 || v.y < 0 || v.x > width || v.y > height) {
            panX += width / 2 - v.x
            panY += height / 2 - v.y
        }
    }

    // ---- connections (positions in view coordinates)
    function beginConnect(nodeId, port, vx, vy) {
        const p = doc.portPosition(nodeId, port, false)
        connFromNode = nodeId
        connFromPort = port
        connStart = p
        connEnd = toContent(vx, vy)
        connTargetNode = ""; connTargetPort = ""; connRefusal = ""
    }
    function updateConnect(vx, vy) {
        const c = toContent(vx, vy)
        const hit = doc.portAt(c.x, c.y, 14 / Math.min(zoom, 1))
        if (hit.node !== undefined && hit.input) {
            connEnd = Qt.point(hit.x, hit.y)
            if (hit.node !== connTargetNode || hit.port !== connTargetPort) {
                connTargetNode = hit.node
                connTargetPort = hit.port
                connRefusal = doc.connectionRefusal(connFromNode, connFromPort, hit.node, hit.port)
            }
        } else {
            connEnd = c
            connTargetNode = ""; connTargetPort = ""; connRefusal = ""
        }
    }
    function endConnect(vx, vy) {
        updateConnect(vx, vy)
        if (connTargetNode !== "") {
            const why = doc.connectPorts(connFromNode, connFromPort, connTargetNode, connTargetPort)
            if (why !== "") refused(why)
        }
        cancelConnect()
    }
    function cancelConnect() {
        connFromNode = ""; connFromPort = ""; connTargetNode = ""; connTargetPort = ""; connRefusal = ""
    }

    Rectangle { anchors.fill: parent; color: Theme.canvas }

    // The grid, in view coordinates so that only the visible lines exist.
    Item {
        id: grid
        anchors.fill: parent
        readonly property real step: {
            let s = 24 * board.zoom
            while (s < 14) s *= 2
            return s
        }
        readonly property real offX: ((board.panX % step) + step) % step
        readonly property real offY: ((board.panY % step) + step) % step
        Repeater {
            model: Math.ceil(board.width / grid.step) + 1
            Rectangle { required property int index; x: grid.offX + index * grid.step; width: 1; height: grid.height; color: Theme.grid }
        }
        Repeater {
            model: Math.ceil(board.height / grid.step) + 1
            Rectangle { required property int index; y: grid.offY + index * grid.step; height: 1; width: grid.width; color: Theme.grid }
        }
    }

    // Background: pan, rubber band, wheel.
    MouseArea {
        id: background
        anchors.fill: parent
        acceptedButtons: Qt.LeftButton | Qt.MiddleButton
        property point start
        property point startPan
        property bool banding: false
        property bool moved: false
        cursorShape: pressed && !banding ? Qt.ClosedHandCursor : Qt.ArrowCursor
        onPressed: (mouse) => {
            board.forceActiveFocus()
            start = Qt.point(mouse.x, mouse.y)
            startPan = Qt.point(board.panX, board.panY)
            banding = mouse.button === Qt.LeftButton && (mouse.modifiers & Qt.ShiftModifier)
            moved = false
        }
        onPositionChanged: (mouse) => {
            if (!pressed) return
            if (Math.abs(mouse.x - start.x) + Math.abs(mouse.y - start.y) > 3) moved = true
            if (banding) {
                band.x = Math.min(start.x, mouse.x); band.y = Math.min(start.y, mouse.y)
                band.width = Math.abs(mouse.x - start.x); band.height = Math.abs(mouse.y - start.y)
            } else {
                board.panX = startPan.x + mouse.x - start.x
                board.panY = startPan.y + mouse.y - start.y
            }
        }
        onReleased: (mouse) => {
            if (banding && moved) {
                const a = board.toContent(band.x, band.y)
                board.doc.selectInRect(Qt.rect(a.x, a.y, band.width / board.zoom, band.height / board.zoom),
                                        (mouse.modifiers & Qt.ControlModifier) !== 0)
            } else if (!moved) {
                board.doc.clearSelection()
            }
            banding = false
            band.width = 0; band.height = 0
        }
        onWheel: (wheel) => {
            if (wheel.modifiers & Qt.ControlModifier) {
                board.zoomAt(Math.pow(1.0015, wheel.angleDelta.y), wheel.x, wheel.y)
            } else {
                const d = wheel.pixelDelta.x !== 0 || wheel.pixelDelta.y !== 0 ? wheel.pixelDelta
                                                                               : Qt.point(wheel.angleDelta.x / 2, wheel.angleDelta.y / 2)
                if (wheel.modifiers & Qt.ShiftModifier) board.panX += d.y
                else { board.panX += d.x; board.panY += d.y }
            }
        }
    }

    // Drops from the palette.
    DropArea {
        anchors.fill: parent
        keys: ["weir/operator"]
        onDropped: (drop) => {
            const c = board.toContent(drop.x, drop.y)
            board.doc.addNode(drop.source.operatorType, Math.round(c.x - board.doc.nodeWidth / 2), Math.round(c.y - 20))
            board.forceActiveFocus()
        }
    }

    Item {
        id: content
        objectName: "canvasContent"
        x: board.panX
        y: board.panY
        scale: board.zoom
        transformOrigin: Item.TopLeft

        Repeater {
            model: board.doc.edges
            delegate: EdgeItem { doc: board.doc; canvas: board }
        }
        Repeater {
            model: board.doc.nodes
            delegate: NodeItem { doc: board.doc; canvas: board }
        }
        Shape {  // the connection being drawn
            visible: board.connecting
            z: 10
            ShapePath {
                strokeColor: board.connTargetNode === "" ? Theme.accent : board.connRefusal === "" ? Theme.ok : Theme.error
                strokeWidth: 2
                strokeStyle: ShapePath.DashLine
                dashPattern: [4, 3]
                fillColor: "transparent"
                startX: board.connStart.x
                startY: board.connStart.y
                PathCubic {
                    x: board.connEnd.x
                    y: board.connEnd.y
                    control1X: board.connStart.x + Math.max(40, Math.abs(board.connEnd.x - board.connStart.x) / 2)
                    control1Y: board.connStart.y
                    control2X: board.connEnd.x - Math.max(40, Math.abs(board.connEnd.x - board.connStart.x) / 2)
                    control2Y: board.connEnd.y
                }
            }
        }
    }

    Rectangle {
        id: band
        color: Theme.band
        border.color: Theme.accent
        border.width: 1
        visible: width > 0 && height > 0
    }

    // What dropping the connection here would do.
    Rectangle {
        readonly property point at: board.toView(board.connEnd.x, board.connEnd.y)
        visible: board.connecting && board.connTargetNode !== ""
        x: Math.min(at.x + 14, board.width - width - 8)
        y: at.y + 14
        width: Math.min(hint.implicitWidth + 16, 360)
        height: hint.implicitHeight + 10
        radius: 4
        color: board.connRefusal === "" ? Theme.okSoft : Theme.errorSoft
        border.color: board.connRefusal === "" ? Theme.ok : Theme.error
        Text {
            id: hint
            anchors.centerIn: parent
            width: parent.width - 16
            wrapMode: Text.Wrap
            font.pixelSize: 11
            color: board.connRefusal === "" ? Theme.ok : Theme.error
            text: board.connRefusal === "" ? "Connect to " + board.connTargetNode + "." + board.connTargetPort
                                             : board.connRefusal
        }
    }

    // An empty job says how to start.
    Column {
        anchors.centerIn: parent
        visible: board.doc.nodes.count === 0
        spacing: 6
        Text { anchors.horizontalCenter: parent.horizontalCenter; text: "An empty job"; font.pixelSize: 18; color: Theme.textMuted }
        Text {
            anchors.horizontalCenter: parent.horizontalCenter
            text: "Drag an operator from the palette, or open a sample from the File menu."
            font.pixelSize: 12; color: Theme.textFaint
        }
    }

    // The minimap, bottom left, when the graph does not fit the view: the nodes, the part in
    // view, and a click or drag moves the view there.
    Rectangle {
        id: minimap
        objectName: "minimap"
        readonly property rect b: board.doc.bounds
        readonly property real s: b.width > 0 ? Math.min((width - 12) / b.width, (height - 12) / b.height) : 1
        readonly property point tl: board.toContent(0, 0)
        readonly property point br: board.toContent(board.width, board.height)
        visible: board.doc.nodes.count > 0 && (b.x < tl.x || b.y < tl.y || b.x + b.width > br.x || b.y + b.height > br.y)
        anchors.left: parent.left
        anchors.bottom: parent.bottom
        anchors.margins: 10
        width: 180
        height: 120
        radius: 4
        color: Theme.minimap
        border.color: Theme.panelBorder
        function toMap(cx, cy) { return Qt.point(6 + (cx - b.x) * s, 6 + (cy - b.y) * s) }
        Item {
            anchors.fill: parent
            clip: true
            Repeater {
                model: minimap.visible ? board.doc.nodes : null
                delegate: Rectangle {
                    required property real posX
                    required property real posY
                    required property real nodeHeight
                    required property string category
                    required property bool selected
                    required property int problemCount
                    x: 6 + (posX - minimap.b.x) * minimap.s
                    y: 6 + (posY - minimap.b.y) * minimap.s
                    width: Math.max(2, board.doc.nodeWidth * minimap.s)
                    height: Math.max(2, nodeHeight * minimap.s)
                    color: problemCount > 0 ? Theme.error : selected ? Theme.accent : Theme.categoryColor(category)
                    opacity: 0.7
                }
            }
            Rectangle {  // what the canvas shows
                readonly property point a: minimap.toMap(minimap.tl.x, minimap.tl.y)
                readonly property point c: minimap.toMap(minimap.br.x, minimap.br.y)
                x: a.x; y: a.y
                width: c.x - a.x; height: c.y - a.y
                color: Theme.band
                border.color: Theme.accent
            }
        }
        MouseArea {
            anchors.fill: parent
            function go(mx, my) {
                const cx = minimap.b.x + (mx - 6) / minimap.s, cy = minimap.b.y + (my - 6) / minimap.s
                board.panX = board.width / 2 - cx * board.zoom
                board.panY = board.height / 2 - cy * board.zoom
            }
            onPressed: (mouse) => go(mouse.x, mouse.y)
            onPositionChanged: (mouse) => { if (pressed) go(mouse.x, mouse.y) }
        }
    }

    // Zoom controls, bottom right.
    Row {
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        anchors.margins: 10
        spacing: 4
        ToolButton { text: "−"; onClicked: board.zoomOut(); ToolTip.visible: hovered; ToolTip.text: "Zoom out (−)"; width: 28; height: 26 }
        Label {
            anchors.verticalCenter: parent.verticalCenter
            text: Math.round(board.zoom * 100) + "%"
            width: 44
            horizontalAlignment: Text.AlignHCenter
            color: Theme.textMuted
            font.pixelSize: 11
        }
        ToolButton { text: "+"; onClicked: board.zoomIn(); ToolTip.visible: hovered; ToolTip.text: "Zoom in (+)"; width: 28; height: 26 }
        ToolButton { text: "Fit"; onClicked: board.fitToView(); ToolTip.visible: hovered; ToolTip.text: "Fit to view (F)"; height: 26 }
    }

    Keys.onPressed: (event) => {
        if (event.key === Qt.Key_Plus || event.key === Qt.Key_Equal) { zoomIn(); event.accepted = true }
        else if (event.key === Qt.Key_Minus) { zoomOut(); event.accepted = true }
        else if (event.key === Qt.Key_F && event.modifiers === Qt.NoModifier) { fitToView(); event.accepted = true }
        else if (event.key === Qt.Key_Delete || event.key === Qt.Key_Backspace) { doc.removeSelected(); event.accepted = true }
        else if (event.key === Qt.Key_Escape) { cancelConnect(); doc.clearSelection(); event.accepted = true }
        else if (event.key === Qt.Key_Left || event.key === Qt.Key_Right || event.key === Qt.Key_Up || event.key === Qt.Key_Down) {
            const step = (event.modifiers & Qt.ShiftModifier) ? 40 : 8
            const dx = event.key === Qt.Key_Left ? -step : event.key === Qt.Key_Right ? step : 0
            const dy = event.key === Qt.Key_Up ? -step : event.key === Qt.Key_Down ? step : 0
            if (doc.selectedNodes.length > 0) doc.moveNodes(doc.selectedNodes, dx, dy)
            else { panX -= dx * 2; panY -= dy * 2 }
            event.accepted = true
        }
    }
}
