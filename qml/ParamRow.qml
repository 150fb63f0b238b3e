import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// One param of the inspected node, with an editor that fits its kind (InspectorModel roles):
// int -> spin box, double -> number field, bool -> switch, enum -> combo box, expression ->
// ExpressionField, field -> editable combo of the input's fields, field_list -> chips,
// object_list / schema -> a small table, json -> JSON text. Every change is one undoable
// JobDocument.setParam.
Rectangle {
    id: row
    required property JobDocument doc
    required property string nodeId
    required property int index
    required property string name
    required property string path
    required property string kind
    required property int depth
    required property bool isRequired
    required property string defaultText
    required property var enumValues
    required property string help
    required property var value
    required property string valueText
    required property bool isSet
    required property var effective
    required property string effectiveText
    required property string error
    required property real minimum
    required property real maximum
    required property var childSpecs
    required property var items
    required property var itemErrors
    required property var fieldCandidates
    required property bool parentSet
    required property bool switchable
    required property bool parentOptional
    required property bool applies
    property bool focused: false
    /// False: the engine cannot honour this setting yet (shown, not editable, with a note).
    property bool available: true
    /// No node: the row is one of the job's own settings (checkpoint.*, restart.*).
    readonly property bool jobSetting: nodeId === ""
    /// An object that may be absent (a job setting such as checkpoint, or an optional
    /// param such as a join's window) is turned on and off by a switch.
    readonly property bool objectSwitch: switchable

    objectName: "param_" + path
    width: ListView.view ? ListView.view.width : 300
    implicitHeight: layout.implicitHeight + 14
    color: focused ? Theme.warningSoft : "transparent"
    Behavior on color { ColorAnimation { duration: 300 } }

    function set(v) { setAt(path, v) }
    function setAt(p, v) { if (jobSetting) doc.setJobParam(p, v); else doc.setParam(nodeId, p, v) }
    function reset() { setAt(path, undefined) }

    // A member of an optional object that is off is not shown, nor a param that does not
    // apply (a tumbling window's slide_ms).
    visible: applies && (!parentOptional || parentSet)
    height: visible ? implicitHeight : 0

    ColumnLayout {
        id: layout
        x: 12 + row.depth * 14
        y: 7
        width: parent.width - x - 12
        spacing: 3

        RowLayout {
            Layout.fillWidth: true
            spacing: 4
            Label {
                text: row.name + (row.isRequired ? " *" : "")
                font.pixelSize: 12
                font.bold: row.isSet || row.kind === "object"
                color: row.error !== "" ? Theme.error : Theme.text
                Layout.fillWidth: true
                elide: Text.ElideRight
                HoverHandler { id: nameHover }
                ToolTip.visible: nameHover.hovered && row.help !== ""
                ToolTip.delay: 300
                ToolTip.text: row.help
            }
            Label {
                objectName: "unavailable_" + row.path
                visible: !row.available && row.depth === 0
                text: "not available yet"
                font.pixelSize: 10
                font.italic: true
                color: Theme.warning
            }
            Label {
                text: row.kind
                font.pixelSize: 10
                color: Theme.textFaint
            }
            ToolButton {
                visible: row.isSet && row.kind !== "object"
                text: "↺"
                font.pixelSize: 12
                implicitWidth: 22; implicitHeight: 20
                onClicked: row.reset()
                ToolTip.visible: hovered
                ToolTip.text: row.defaultText !== "" ? "Reset to default (" + row.defaultText + ")" : "Remove"
            }
        }

        Loader {
            id: editor
            Layout.fillWidth: true
            active: row.kind !== "object" || row.objectSwitch
            enabled: row.available
            sourceComponent: row.objectSwitch ? objectEditor
                           : row.kind === "int" ? intEditor
                           : row.kind === "double" ? numberEditor
                           : row.kind === "bool" ? boolEditor
                           : row.kind === "enum" ? enumEditor
                           : row.kind === "expression" ? exprEditor
                           : row.kind === "field" ? fieldEditor
                           : row.kind === "field_list" ? chipsEditor
                           : row.kind === "object_list" || row.kind === "schema" ? tableEditor
                           : row.kind === "json" ? jsonEditor
                           : textEditor
        }

        RowLayout {
            Layout.fillWidth: true
            visible: errorLabel.shown || fixButton.fix.label !== undefined
            Label {
                id: errorLabel
                Layout.fillWidth: true
                // An expression editor shows its own live error; validation's is not repeated.
                readonly property bool shown: row.error !== "" && !(editor.item && editor.item.check !== undefined && !editor.item.check.ok)
                visible: shown
                text: row.error
                color: Theme.error
                font.pixelSize: 11
                wrapMode: Text.Wrap
            }
            Button {  // the problem's quick fix ("did you mean")
                id: fixButton
                readonly property int problem: row.error !== "" && !row.jobSetting ? row.doc.problemRow(row.nodeId, row.path) : -1
                readonly property var fix: problem >= 0 ? row.doc.quickFix(problem) : ({})
                objectName: "fix_" + row.path
                visible: fix.label !== undefined
                text: fix.label || ""
                font.pixelSize: 11
                implicitHeight: 22
                onClicked: row.doc.applyQuickFix(problem)
            }
        }
        Label {  // the param's doc, always there (the whole of it when the row is focused)
            objectName: "doc_" + row.path
            Layout.fillWidth: true
            visible: row.help !== ""
            text: row.help
            color: Theme.textMuted
            font.pixelSize: 10
            wrapMode: Text.Wrap
            maximumLineCount: row.focused ? 8 : 2
            elide: Text.ElideRight
        }
    }

    Component {
        id: objectEditor
        Switch {
            objectName: "switch_" + row.path
            checked: row.isSet
            text: checked ? "on" : "off"
            onToggled: row.set(checked ? ({}) : undefined)
        }
    }
    Component {
        id: intEditor
        SpinBox {
            objectName: "spin_" + row.path
            from: isNaN(row.minimum) ? -2000000000 : Math.max(-2000000000, row.minimum)
            to: isNaN(row.maximum) ? 2000000000 : Math.min(2000000000, row.maximum)
            editable: true
            // Unset and without a default: empty, not the lowest value allowed.
            readonly property bool empty: !row.isSet && typeof row.effective !== "number"
            value: typeof row.effective === "number" ? row.effective : Math.max(from, Math.min(to, 0))
            textFromValue: (v) => empty ? "" : String(v)
            valueFromText: (t) => { const n = parseInt(t); return isNaN(n) ? value : n }
            stepSize: row.name.endsWith("_ms") ? 100 : 1
            onValueModified: row.set(value)
        }
    }
    Component {
        id: numberEditor
        TextField {
            objectName: "number_" + row.path
            text: row.isSet || row.defaultText !== "" ? row.effectiveText : ""
            placeholderText: row.defaultText
            validator: DoubleValidator {}
            selectByMouse: true
            onEditingFinished: if (text !== row.effectiveText) row.set(text === "" ? undefined : Number(text))
        }
    }
    Component {
        id: boolEditor
        Switch {
            objectName: "switch_" + row.path
            checked: row.effective === true
            text: checked ? "on" : "off"
            onToggled: row.set(checked)
        }
    }
    Component {
        id: enumEditor
        ComboBox {
            objectName: "combo_" + row.path
            model: row.enumValues
            currentIndex: row.enumValues.indexOf(row.effectiveText)
            displayText: currentIndex < 0 ? "choose…" : currentText
            onActivated: (i) => row.set(row.enumValues[i])
        }
    }
    Component {
        id: exprEditor
        ExpressionField {
            doc: row.doc
            path: row.path
            value: row.valueText
            placeholder: "an expression, e.g. price > 1000"
            onCommitted: (t) => row.set(t === "" ? undefined : t)
        }
    }
    Component {
        id: fieldEditor
        ComboBox {
            editable: true
            model: row.fieldCandidates
            editText: row.valueText
            Component.onCompleted: editText = row.valueText
            onAccepted: row.set(editText === "" ? undefined : editText)
            onActivated: (i) => row.set(row.fieldCandidates[i])
        }
    }
    Component {
        id: textEditor
        TextField {
            objectName: "text_" + row.path
            text: row.valueText
            placeholderText: row.defaultText !== "" ? row.defaultText : row.kind
            selectByMouse: true
            font.family: row.kind === "path" ? Theme.monoFamily : font.family
            onEditingFinished: if (text !== row.valueText) row.set(text === "" ? undefined : text)
        }
    }
    Component {
        id: jsonEditor
        TextArea {
            text: row.isSet ? JSON.stringify(row.value) : ""
            placeholderText: "JSON"
            font.family: Theme.monoFamily
            wrapMode: TextEdit.Wrap
            selectByMouse: true
            onEditingFinished: row.doc.setParamJson(row.nodeId, row.path, text === "" ? "null" : text)
        }
    }
    Component {
        id: chipsEditor
        Flow {
            spacing: 4
            Repeater {
                model: row.items
                delegate: Rectangle {
                    required property var modelData
                    required property int index
                    height: 22
                    width: chipText.implicitWidth + 28
                    radius: 11
                    color: Theme.accentSoft
                    border.color: row.itemErrors[index] && Object.keys(row.itemErrors[index]).length ? Theme.error : "transparent"
                    Text { id: chipText; x: 9; anchors.verticalCenter: parent.verticalCenter; text: parent.modelData; font.pixelSize: 11; color: Theme.text }
                    Text {
                        anchors.right: parent.right; anchors.rightMargin: 7; anchors.verticalCenter: parent.verticalCenter
                        text: "×"; color: Theme.textMuted; font.pixelSize: 13
                        MouseArea {
                            anchors.fill: parent; anchors.margins: -3
                            onClicked: { const l = row.items.slice(); l.splice(index, 1); row.set(l) }
                        }
                    }
                }
            }
            ComboBox {
                implicitHeight: 24
                implicitWidth: 110
                font.pixelSize: 11
                model: row.fieldCandidates.filter(f => row.items.indexOf(f) < 0)
                displayText: "+ field"
                onActivated: (i) => { const l = row.items.slice(); l.push(model[i]); row.set(l) }
            }
        }
    }
    Component {
        id: tableEditor
        ColumnLayout {
            spacing: 3
            Repeater {
                model: row.items
                delegate: ColumnLayout {
                    id: listItem
                    required property var modelData
                    required property int index
                    readonly property var errors: row.itemErrors[index] || ({})
                    Layout.fillWidth: true
                    spacing: 1
                    RowLayout {
                        Layout.fillWidth: true
                        spacing: 3
                        Repeater {
                            model: row.childSpecs
                            delegate: Loader {
                                id: cell
                                required property var modelData
                                readonly property string member: modelData ? modelData.name : ""
                                readonly property string cellPath: row.path + "[" + listItem.index + "]." + member
                                readonly property var cellValue: listItem.modelData ? listItem.modelData[member] : undefined
                                // Names and choices narrow, expressions and the rest wide.
                                readonly property bool narrow: modelData.kind === "enum" || member === "name"
                                Layout.fillWidth: !narrow
                                Layout.preferredWidth: modelData.kind === "enum" ? 96 : narrow ? 92 : 60
                                sourceComponent: modelData.kind === "enum" ? cellEnum
                                               : modelData.kind === "expression" ? cellExpr : cellText
                                Component {
                                    id: cellEnum
                                    ComboBox {
                                        font.pixelSize: 11
                                        model: cell.modelData.enumValues
                                        currentIndex: cell.modelData.enumValues.indexOf(cell.cellValue)
                                        displayText: currentIndex < 0 ? cell.member : currentText
                                        onActivated: (i) => row.setAt(cell.cellPath, cell.modelData.enumValues[i])
                                    }
                                }
                                Component {
                                    id: cellText
                                    TextField {
                                        font.pixelSize: 11
                                        text: cell.cellValue === undefined || cell.cellValue === null ? "" : String(cell.cellValue)
                                        placeholderText: cell.member
                                        selectByMouse: true
                                        color: listItem.errors[cell.member] ? Theme.error : Theme.text
                                        onEditingFinished: {
                                            const t = text
                                            if (t === (cell.cellValue === undefined ? "" : String(cell.cellValue))) return
                                            const numeric = cell.modelData.kind === "int" || cell.modelData.kind === "double"
                                            row.setAt(cell.cellPath, t === "" ? undefined : numeric ? Number(t) : t)
                                        }
                                    }
                                }
                                Component {
                                    id: cellExpr
                                    ExpressionField {
                                        doc: row.doc
                                        path: cell.cellPath
                                        value: cell.cellValue === undefined ? "" : String(cell.cellValue)
                                        placeholder: cell.member
                                        onCommitted: (t) => row.setAt(cell.cellPath, t === "" ? undefined : t)
                                    }
                                }
                            }
                        }
                        ToolButton {
                            text: "×"
                            implicitWidth: 22; implicitHeight: 22
                            onClicked: row.setAt(row.path + "[" + listItem.index + "]", undefined)
                            ToolTip.visible: hovered
                            ToolTip.text: "Remove"
                        }
                    }
                    Label {
                        visible: Object.keys(listItem.errors).length > 0
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        font.pixelSize: 10
                        color: Theme.error
                        text: Object.keys(listItem.errors).map(k => (k !== "" ? k + ": " : "") + listItem.errors[k]).join("\n")
                    }
                }
            }
            Button {
                text: row.kind === "schema" ? "+ Field" : "+ Add"
                flat: true
                font.pixelSize: 11
                implicitHeight: 26
                onClicked: row.doc.addListItem(row.nodeId, row.path)
            }
        }
    }
}
