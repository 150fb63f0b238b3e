import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The problems of the last validation, as the engine words them. Clicking one selects its
// node (or edge) and shows the param in the inspector.
Rectangle {
    id: panel
    required property JobDocument doc
    signal problemActivated(string nodeId)
    color: Theme.panel

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            Layout.preferredHeight: 30
            Label { text: "Problems"; font.bold: true; color: Theme.text }
            Rectangle {
                visible: panel.doc.problemCount > 0
                width: countLabel.implicitWidth + 12; height: 18; radius: 9
                color: Theme.errorSoft
                Label { id: countLabel; anchors.centerIn: parent; text: panel.doc.problemCount; color: Theme.error; font.pixelSize: 11; font.bold: true }
            }
            Item { Layout.fillWidth: true }
            Label {
                text: panel.doc.validating ? "validating…" : "validated in " + panel.doc.validationMs.toFixed(1) + " ms"
                color: Theme.textFaint
                font.pixelSize: 11
            }
        }
        Rectangle { Layout.fillWidth: true; height: 1; color: Theme.panelBorder }
        ListView {
            id: list
            objectName: "problemList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: panel.doc.problems
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            delegate: Rectangle {
                id: problem
                required property int index
                required property string node
                required property string path
                required property string message
                required property bool nodeExists
                width: ListView.view.width
                height: 24
                color: hover.hovered ? Theme.accentSoft : index % 2 ? "transparent" : Theme.stripe
                HoverHandler { id: hover; cursorShape: Qt.PointingHandCursor }
                TapHandler {
                    onTapped: {
                        panel.doc.selectProblem(problem.index)
                        if (problem.nodeExists) panel.problemActivated(problem.node)
                    }
                }
                RowLayout {
                    anchors.fill: parent
                    anchors.leftMargin: 12
                    anchors.rightMargin: 12
                    spacing: 8
                    Rectangle { width: 8; height: 8; radius: 4; color: Theme.error }
                    Label { text: problem.node; font.bold: true; font.pixelSize: 12; color: Theme.text }
                    Label { visible: problem.path !== ""; text: problem.path; font.family: Theme.monoFamily; font.pixelSize: 11; color: Theme.textMuted }
                    Label {
                        text: problem.message; font.pixelSize: 12; color: Theme.text; elide: Text.ElideRight; Layout.fillWidth: true
                        HoverHandler { id: messageHover }
                        ToolTip.visible: messageHover.hovered && truncated
                        ToolTip.delay: 500
                        ToolTip.text: problem.message
                    }
                    Button {  // "did you mean": one click makes it so
                        readonly property var fix: panel.doc.problemCount >= 0 ? panel.doc.quickFix(problem.index) : ({})
                        objectName: "fix_" + problem.index
                        visible: fix.label !== undefined
                        text: fix.label || ""
                        font.pixelSize: 11
                        implicitHeight: 20
                        onClicked: panel.doc.applyQuickFix(problem.index)
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                visible: list.count === 0
                text: panel.doc.nodes.count === 0 ? "Nothing to check yet." : "✓  No problems: the job is valid."
                color: panel.doc.nodes.count === 0 ? Theme.textFaint : Theme.ok
            }
        }
    }
}
