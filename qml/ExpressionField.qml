import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// An expression editor: syntax colouring, the engine's compile error underlined at its
// position as you type (InspectorModel.checkExpression), and completion of field names,
// functions and keywords (Tab or Enter accepts, arrows choose). Enter commits the text.
ColumnLayout {
    id: field
    required property JobDocument doc
    required property string path
    property string value: ""
    property string placeholder: ""
    signal committed(string text)

    property var check: ({ ok: true })
    property var candidates: []
    property int completionStart: 0
    readonly property alias editor: area
    readonly property alias completionView: list
    readonly property alias completionOpen: popup.opened
    spacing: 2

    function recheck() { check = doc.inspector.checkExpression(path, area.text) }
    function commit() { if (area.text !== value) committed(area.text) }
    function updateCompletions() {
        const c = doc.inspector.completions(path, area.text, area.cursorPosition)
        completionStart = c.start
        candidates = c.prefix.length > 0 ? c.candidates : []
        list.currentIndex = 0
        if (candidates.length > 0 && area.activeFocus) popup.open(); else popup.close()
    }
    function accept(i) {
        const cand = candidates[i]
        if (!cand) return
        const before = area.text.slice(0, completionStart), after = area.text.slice(area.cursorPosition)
        area.text = before + cand.text + after
        area.cursorPosition = before.length + cand.text.length
        popup.close()
    }

    TextArea {
        id: area
        objectName: "expr_" + field.path
        Layout.fillWidth: true
        text: field.value
        placeholderText: field.placeholder
        wrapMode: TextEdit.Wrap
        font.family: Theme.monoFamily
        font.pixelSize: 12
        selectByMouse: true
        color: Theme.text
        background: Rectangle {
            radius: 3
            color: Theme.field
            border.color: !field.check.ok ? Theme.error : area.activeFocus ? Theme.accent : Theme.panelBorder
        }
        onTextChanged: {
            field.recheck()
            if (activeFocus) field.updateCompletions()
        }
        onActiveFocusChanged: if (!activeFocus) { popup.close(); field.commit() }
        Keys.onPressed: (event) => {
            if (popup.opened) {
                if (event.key === Qt.Key_Down) { list.incrementCurrentIndex(); event.accepted = true; return }
                if (event.key === Qt.Key_Up) { list.decrementCurrentIndex(); event.accepted = true; return }
                if (event.key === Qt.Key_Tab || event.key === Qt.Key_Return || event.key === Qt.Key_Enter) {
                    field.accept(list.currentIndex); event.accepted = true; return
                }
                if (event.key === Qt.Key_Escape) { popup.close(); event.accepted = true; return }
            }
            if ((event.key === Qt.Key_Return || event.key === Qt.Key_Enter) && !(event.modifiers & Qt.ShiftModifier)) {
                field.commit(); event.accepted = true
            } else if (event.key === Qt.Key_Space && (event.modifiers & Qt.ControlModifier)) {
                field.updateCompletions(); event.accepted = true
            }
        }
        ExpressionHighlighter {
            document: area.textDocument
            errorStart: field.check.ok ? -1 : field.check.offset
            errorLength: field.check.ok ? 0 : field.check.length
            errorColor: Theme.error
            keywordColor: Theme.keyword
            stringColor: Theme.string
            numberColor: Theme.number
            functionColor: Theme.function_
        }

        Popup {
            id: popup
            y: area.cursorRectangle.y + area.cursorRectangle.height + 4
            x: Math.min(area.cursorRectangle.x, area.width - width)
            width: 220
            height: Math.min(list.contentHeight + 4, 180)
            padding: 2
            focus: false
            closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutsideParent
            background: Rectangle { color: Theme.field; border.color: Theme.panelBorder; radius: 4 }
            ListView {
                id: list
                objectName: "completionList"
                anchors.fill: parent
                clip: true
                model: field.candidates
                delegate: Rectangle {
                    required property var modelData
                    required property int index
                    width: ListView.view.width
                    height: 22
                    color: ListView.isCurrentItem ? Theme.accentSoft : "transparent"
                    Text {
                        x: 6; anchors.verticalCenter: parent.verticalCenter
                        text: parent.modelData.text
                        font.family: Theme.monoFamily; font.pixelSize: 12
                        color: parent.modelData.kind === "field" ? Theme.text : parent.modelData.kind === "function" ? Theme.function_ : Theme.keyword
                    }
                    Text {
                        anchors.right: parent.right; anchors.rightMargin: 6; anchors.verticalCenter: parent.verticalCenter
                        text: parent.modelData.detail
                        font.pixelSize: 10; color: Theme.textFaint
                    }
                    MouseArea { anchors.fill: parent; onClicked: field.accept(parent.index) }
                }
            }
        }
    }

    Text {
        Layout.fillWidth: true
        visible: text !== ""
        wrapMode: Text.Wrap
        font.pixelSize: 11
        color: field.check.ok ? Theme.textMuted : Theme.error
        text: !field.check.ok ? "at " + field.check.offset + ": " + field.check.message
            : field.check.type ? "→ " + field.check.type : ""
    }
}
