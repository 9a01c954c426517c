// What server reflection answers from: the generated file descriptors and
// every file they import, indexed once by file name, by fully-qualified
// symbol (messages, enums and their values, services, methods, fields,
// extensions) and by extension, each file serialized once as a
// FileDescriptorProto.
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

export interface DescriptorIndex {
  /** Fully-qualified names of the services the given files declare. */
  readonly services: readonly string[];
  /** By file name as imports spell it, e.g. "permission/v1/permission.proto". */
  fileByName(name: string): DescFile | undefined;
  fileBySymbol(symbol: string): DescFile | undefined;
  fileByExtension(containingType: string, number: number): DescFile | undefined;
  /** Extension numbers of a message type; undefined when the type is unknown. */
  extensionNumbers(typeName: string): readonly number[] | undefined;
  /** The file and its imports (transitively), each once, skipping those in `sent`; the file itself always. */
  withDependencies(file: DescFile, sent: Set<string>): Uint8Array[];
}

export function createDescriptorIndex(files: readonly DescFile[]): DescriptorIndex {
  const byName = new Map<string, DescFile>();
  const bySymbol = new Map<string, DescFile>();
  const extensionsOf = new Map<string, Map<number, DescFile>>();
  const bytes = new Map<DescFile, Uint8Array>();

  const addExtension = (file: DescFile, extension: DescExtension): void => {
    bySymbol.set(extension.typeName, file);
    const numbers = extensionsOf.get(extension.extendee.typeName) ?? new Map<number, DescFile>();
    numbers.set(extension.number, file);
    extensionsOf.set(extension.extendee.typeName, numbers);
  };
  const addEnum = (file: DescFile, desc: DescEnum, scope: string): void => {
    bySymbol.set(desc.typeName, file);
    // Enum values live in the enum's enclosing scope, as in protobuf's name resolution.
    for (const value of desc.values) bySymbol.set(scope === "" ? value.name : `${scope}.${value.name}`, file);
  };
  const addMessage = (file: DescFile, message: DescMessage): void => {
    bySymbol.set(message.typeName, file);
    if (!extensionsOf.has(message.typeName)) extensionsOf.set(message.typeName, new Map());
    for (const field of message.fields) bySymbol.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) bySymbol.set(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) addMessage(file, nested);
    for (const nested of message.nestedEnums) addEnum(file, nested, message.typeName);
    for (const extension of message.nestedExtensions) addExtension(file, extension);
  };
  const addFile = (file: DescFile): void => {
    const name = fileName(file);
    if (byName.has(name)) return;
    byName.set(name, file);
    bytes.set(file, toBinary(FileDescriptorProtoSchema, file.proto));
    const scope = file.proto.package;
    for (const message of file.messages) addMessage(file, message);
    for (const desc of file.enums) addEnum(file, desc, scope);
    for (const extension of file.extensions) addExtension(file, extension);
    for (const service of file.services) {
      bySymbol.set(service.typeName, file);
      for (const method of service.methods) bySymbol.set(`${service.typeName}.${method.name}`, file);
    }
    for (const dependency of file.dependencies) addFile(dependency);
  };
  for (const file of files) addFile(file);

  return {
    services: files.flatMap((file) => file.services.map((service) => service.typeName)),
    fileByName: (name) => byName.get(name),
    fileBySymbol: (symbol) => bySymbol.get(symbol.startsWith(".") ? symbol.slice(1) : symbol),
    fileByExtension: (containingType, number) => extensionsOf.get(containingType)?.get(number),
    extensionNumbers: (typeName) => {
      const numbers = extensionsOf.get(typeName);
      return numbers === undefined ? undefined : [...numbers.keys()].sort((a, b) => a - b);
    },
    withDependencies(file, sent) {
      const out: Uint8Array[] = [];
      const visit = (current: DescFile, requested: boolean): void => {
        const name = fileName(current);
        if (sent.has(name) && !requested) return;
        sent.add(name);
        const serialized = bytes.get(current);
        if (serialized !== undefined) out.push(serialized);
        for (const dependency of current.dependencies) visit(dependency, false);
      };
      visit(file, true);
      return out;
    },
  };
}

/** "permission/v1/permission.proto": DescFile.name lacks the suffix. */
function fileName(file: DescFile): string {
  return file.proto.name;
}
