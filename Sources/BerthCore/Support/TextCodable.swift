/// A value written as one string in `fleet.yaml`, reports and JSON output: a listener URL, an
/// address, a duration, a restart window.
///
/// Conforming types parse themselves with `init?(_:)` and print themselves with `description`;
/// this protocol gives them `Codable` as that one string, so the text form is defined once.
public protocol TextCodable: Codable, CustomStringConvertible {
    /// The value `text` stands for, or nil when it does not parse.
    init?(_ text: String)
}

extension TextCodable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a valid \(Self.self)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
