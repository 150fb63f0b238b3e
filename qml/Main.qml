import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Shapes
import Weir.Workbench

ApplicationWindow {
    id: window
    property string jobPath: ""
    width: 1280
    height: 800
    visible: true
    title: (doc.name !== "" ? doc.name + " — " : "") + "Weir Workbench"
    color: "#f6f7f9"

    JobDocument { id: doc }
    Component.onCompleted: if (jobPath !== "") doc.load(jobPath)

    readonly property int nodeWidth: 170
    readonly property int nodeHeight: 92
    function nodeById(id) {
        for (const n of doc.nodes) if (n.id === id) return n
        return null
    }

    header: ToolBar {
        RowLayout {
            anchors.fill: parent
            Label { text: doc.name !== "" ? doc.name : "No job open"; font.bold: true; Layout.leftMargin: 12 }
            Label { text: doc.path; color: "#667"; elide: Label.ElideMiddle; Layout.fillWidth: true }
            Label {
                text: doc.problems.length === 0 ? "valid" : doc.problems.length + " problem(s)"
                color: doc.problems.length === 0 ? "#2e7d32" : "#c62828"
                Layout.rightMargin: 12
            }
        }
    }

    SplitView {
        anchors.fill: parent
        orientation: Qt.Vertical

        Flickable {
            id: canvas
            SplitView.fillHeight: true
            contentWidth: 3000
            contentHeight: 2000
            clip: true

            Repeater {
                model: doc.edges
                delegate: Shape {
                    required property var modelData
                    readonly property var a: window.nodeById(modelData.from)
                    readonly property var b: window.nodeById(modelData.to)
                    visible: a !== null && b !== null
                    ShapePath {
                        strokeColor: "#8a94a6"
                        strokeWidth: 2
                        fillColor: "transparent"
                        startX: a ? a.x + window.nodeWidth : 0
                        startY: a ? a.y + window.nodeHeight / 2 : 0
                        PathCubic {
                            x: b ? b.x : 0
                            y: b ? b.y + window.nodeHeight / 2 : 0
                            control1X: a ? a.x + window.nodeWidth + 60 : 0
                            control1Y: a ? a.y + window.nodeHeight / 2 : 0
                            control2X: b ? b.x - 60 : 0
                            control2Y: b ? b.y + window.nodeHeight / 2 : 0
                        }
                    }
                }
            }

            Repeater {
                model: doc.nodes
                delegate: Rectangle {
                    required property var modelData
                    x: modelData.x
                    y: modelData.y
                    width: window.nodeWidth
                    height: window.nodeHeight
                    radius: 8
                    color: "white"
                    border.color: modelData.problem ? "#c62828" : "#c5cad3"
                    border.width: modelData.problem ? 2 : 1
                    Column {
                        anchors.fill: parent
                        anchors.margins: 8
                        Label { text: modelData.id; font.bold: true; elide: Label.ElideRight; width: parent.width }
                        Label { text: modelData.type; color: "#667"; font.pixelSize: 11 }
                        Label {
                            text: modelData.schema
                            color: "#3a5f8a"
                            font.pixelSize: 10
                            width: parent.width
                            wrapMode: Text.Wrap
                            maximumLineCount: 3
                            elide: Text.ElideRight
                        }
                    }
                    ToolTip.visible: hover.hovered
                    ToolTip.text: modelData.schema !== "" ? modelData.schema : modelData.type
                    HoverHandler { id: hover }
                }
            }
        }

        ListView {
            SplitView.preferredHeight: 140
            model: doc.problems
            clip: true
            header: Label { text: "  Problems"; font.bold: true; padding: 4 }
            delegate: Label {
                required property string modelData
                text: "  " + modelData
                color: "#c62828"
                padding: 2
            }
        }
    }
}
